// The page frame and the small building blocks every shop page uses.
import { raw } from 'hono/html';
import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import { formatMoney, money, parseCurrency, type Money } from '../../core/money.ts';
import type { User } from '../storage/accounts.ts';
import { CSRF_FIELD } from '../routes/session.ts';
import { hueClass } from './style.ts';

/** What the frame needs to know about the request. */
export interface PageCtx {
  readonly user: User | undefined;
  readonly csrf: string;
  readonly cartCount: number;
  readonly path: string;
}

/** The page frame: header with navigation, the content, a footer. */
export const Layout: FC<PropsWithChildren<{ ctx: PageCtx; title: string }>> = ({ ctx, title, children }) => (
  <>
    {raw('<!doctype html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · countersign shop`}</title>
        <link rel="stylesheet" href="/assets/shop.css" />
      </head>
      <body>
        <header class="site">
          <div class="bar">
            <a class="logo" href="/">
              countersign shop
            </a>
            <nav>
              <a href="/">Catalog</a>
              {ctx.user ? (
                <>
                  <a href="/cart">
                    Cart{' '}
                    <span class="badge" data-testid="cart-count">
                      {ctx.cartCount}
                    </span>
                  </a>
                  <a href="/orders">My orders</a>
                  {ctx.user.role === 'staff' ? <a href="/staff">Staff</a> : null}
                  <span class="muted">{ctx.user.email}</span>
                  <form method="post" action="/logout">
                    <CsrfField token={ctx.csrf} />
                    <button class="link" type="submit">
                      Log out
                    </button>
                  </form>
                </>
              ) : (
                <>
                  <a href={`/login?next=${encodeURIComponent(ctx.path)}`}>Log in</a>
                  <a href="/register">Register</a>
                </>
              )}
            </nav>
          </div>
        </header>
        <main>{children}</main>
        <footer class="site">Demo shop of countersign — prices in euro, payments arrive with the gateway.</footer>
      </body>
    </html>
  </>
);

/** The hidden CSRF field every state-changing form carries. */
export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

/** Formats stored minor units for display (the only place money becomes text). */
export function showMoney(minor: bigint, currency: string): string {
  return formatMoney(money(minor, parseCurrency(currency)));
}

/** Formats a Money for display. */
export function show(m: Money): string {
  return formatMoney(m);
}

/** A labelled form field with its error right below it. */
export const Field: FC<{
  name: string;
  label: string;
  type?: string;
  value?: string | undefined;
  error?: string | undefined;
  hint?: string;
  autocomplete?: string;
  required?: boolean;
  min?: string;
  max?: string;
  step?: string;
  inputmode?: 'numeric' | 'text' | 'email';
}> = (p) => (
  <div class={p.error ? 'field invalid' : 'field'}>
    <label for={`f-${p.name}`}>{p.label}</label>
    <input
      id={`f-${p.name}`}
      name={p.name}
      type={p.type ?? 'text'}
      value={p.value ?? ''}
      autocomplete={p.autocomplete}
      required={p.required}
      min={p.min}
      max={p.max}
      step={p.step}
      inputmode={p.inputmode}
      aria-invalid={p.error ? 'true' : undefined}
      aria-describedby={p.error ? `e-${p.name}` : undefined}
    />
    {p.hint ? <div class="hint">{p.hint}</div> : null}
    {p.error ? (
      <div class="error" id={`e-${p.name}`} role="alert">
        {p.error}
      </div>
    ) : null}
  </div>
);

/** A status pill. */
export const Status: FC<{ status: string; testid?: string }> = ({ status, testid }) => (
  <span class={`status ${status}`} data-testid={testid}>
    {status.replace('_', ' ')}
  </span>
);

/** A notice above a form or page. */
export const Notice: FC<{ kind?: 'error' | 'ok'; children?: Child }> = ({ kind, children }) => (
  <div class={kind ? `notice ${kind}` : 'notice'} role={kind === 'error' ? 'alert' : undefined}>
    {children}
  </div>
);

/** The image placeholder: a coloured tile with the product's initials, its colour a class (no inline style under the CSP). */
export const Placeholder: FC<{ name: string; hue: number }> = ({ name, hue }) => (
  <div class={`placeholder ${hueClass(hue)}`} aria-hidden="true">
    {name
      .split(/\s+/)
      .slice(0, 2)
      .map((w) => w.charAt(0).toUpperCase())
      .join('')}
  </div>
);

/** The "Access denied" page: the same for someone else's resource and for one that does not exist. */
export const AccessDenied: FC<{ ctx: PageCtx }> = ({ ctx }) => (
  <Layout ctx={ctx} title="Access denied">
    <div class="denied card">
      <h1>Access denied</h1>
      <p class="muted">
        There is nothing here that you can see. If you followed a link, check that you are logged in with the right
        account.
      </p>
      <p>
        <a class="button secondary" href="/orders">
          My orders
        </a>
      </p>
    </div>
  </Layout>
);

/** A full page for an error that ends a request (CSRF, conflicts, unknown failures). */
export const ErrorPage: FC<{ ctx: PageCtx; title: string; message: string }> = ({ ctx, title, message }) => (
  <Layout ctx={ctx} title={title}>
    <div class="card">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the catalog</a>
      </p>
    </div>
  </Layout>
);
