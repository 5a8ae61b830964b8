// Log in and create an account. Both forms come back to `next` afterwards.
import { isPrivatePath } from '../domain/access.ts';
import { CsrfField, Field, Layout, Notice, type PageCtx } from './layout.tsx';

type Errors = Partial<Record<string, string>>;

/** The login form; `notice` says why an attempt was refused before the password was checked. */
export const LoginPage = (p: { ctx: PageCtx; next: string; email?: string; errors?: Errors; notice?: string }) => (
  <Layout ctx={p.ctx} title={isPrivatePath(p.next) ? 'Access denied' : 'Log in'}>
    {isPrivatePath(p.next) ? (
      <div class="card denied-login" data-testid="login-required">
        <h1>Access denied</h1>
        <p>This page belongs to a customer account. Log in to see it: you come straight back to it afterwards.</p>
      </div>
    ) : null}
    {isPrivatePath(p.next) ? <h2>Log in</h2> : <h1>Log in</h1>}
    {p.notice ? <Notice kind="error">{p.notice}</Notice> : null}
    <form class="stack card" method="post" action={`/login?next=${encodeURIComponent(p.next)}`}>
      <CsrfField token={p.ctx.csrf} />
      <Field
        name="email"
        label="Email"
        type="email"
        value={p.email}
        error={p.errors?.email}
        autocomplete="username"
        required
      />
      <Field
        name="password"
        label="Password"
        type="password"
        error={p.errors?.password}
        autocomplete="current-password"
        required
      />
      <div class="actions">
        <button type="submit">Log in</button>
        <a href={`/register?next=${encodeURIComponent(p.next)}`}>Create an account</a>
      </div>
    </form>
  </Layout>
);

/** The registration form (customers only). */
export const RegisterPage = (p: { ctx: PageCtx; next: string; values?: Record<string, string>; errors?: Errors }) => (
  <Layout ctx={p.ctx} title="Create an account">
    <h1>Create an account</h1>
    <form class="stack card" method="post" action={`/register?next=${encodeURIComponent(p.next)}`}>
      <CsrfField token={p.ctx.csrf} />
      <Field name="name" label="Your name" value={p.values?.name} error={p.errors?.name} autocomplete="name" required />
      <Field
        name="email"
        label="Email"
        type="email"
        value={p.values?.email}
        error={p.errors?.email}
        autocomplete="email"
        required
      />
      <Field
        name="password"
        label="Password"
        type="password"
        error={p.errors?.password}
        autocomplete="new-password"
        hint="At least 10 characters."
        required
      />
      <div class="actions">
        <button type="submit">Create account</button>
        <a href={`/login?next=${encodeURIComponent(p.next)}`}>I already have one</a>
      </div>
    </form>
  </Layout>
);
