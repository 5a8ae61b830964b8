// The cart page and the lines table it shares with the checkout steps.
import { multiply, type Money } from '../../core/money.ts';
import { MAX_QUANTITY } from '../domain/checkout.ts';
import type { CartLineView } from '../storage/cart.ts';
import { CsrfField, Layout, Notice, show, type PageCtx } from './layout.tsx';

/** The cart's lines priced now; editable in the cart, read-only in the checkout. `extra` adds footer rows. */
export const LinesTable = ({
  lines,
  editable,
  csrf,
  subtotal,
  extra,
}: {
  lines: readonly CartLineView[];
  editable: boolean;
  csrf: string;
  subtotal: Money | undefined;
  extra?: Array<[string, string]>;
}) => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>
          <th>Product</th>
          <th class="num">Price</th>
          <th class="num">Quantity</th>
          <th class="num">Total</th>
          {editable ? <th></th> : null}
        </tr>
      </thead>
      <tbody>
        {lines.map((l) => (
          <tr data-testid="cart-line">
            <td>
              <a href={`/products/${l.product.id}`}>{l.product.name}</a>
              {l.product.archived ? <div class="archived">No longer available — remove it to continue.</div> : null}
            </td>
            <td class="num">{show(l.product.price)}</td>
            <td class="num">
              {editable ? (
                <form class="inline-form" method="post" action="/cart/update">
                  <CsrfField token={csrf} />
                  <input type="hidden" name="productId" value={l.product.id} />
                  <input
                    type="number"
                    name="quantity"
                    value={String(l.quantity)}
                    min="1"
                    max={String(MAX_QUANTITY)}
                    aria-label={`Quantity of ${l.product.name}`}
                  />
                  <button class="secondary" type="submit">
                    Update
                  </button>
                </form>
              ) : (
                l.quantity
              )}
            </td>
            <td class="num">{show(multiply(l.product.price, l.quantity))}</td>
            {editable ? (
              <td>
                <form class="inline-form" method="post" action="/cart/remove">
                  <CsrfField token={csrf} />
                  <input type="hidden" name="productId" value={l.product.id} />
                  <button class="link" type="submit">
                    Remove
                  </button>
                </form>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
      <tfoot>
        {subtotal ? (
          <tr>
            <td colspan={3}>Subtotal</td>
            <td class="num" data-testid="subtotal">
              {show(subtotal)}
            </td>
            {editable ? <td></td> : null}
          </tr>
        ) : null}
        {(extra ?? []).map(([label, value]) => (
          <tr>
            <td colspan={3}>{label}</td>
            <td class="num" data-testid={label.toLowerCase()}>
              {value}
            </td>
            {editable ? <td></td> : null}
          </tr>
        ))}
      </tfoot>
    </table>
  </div>
);

/** The cart; `mixed` when its lines are in more than one currency. */
export const CartPage = (p: {
  ctx: PageCtx;
  lines: readonly CartLineView[];
  subtotal: Money | undefined;
  mixed: boolean;
  error?: string | undefined;
}) => (
  <Layout ctx={p.ctx} title="Cart">
    <h1>Your cart</h1>
    {p.error ? <Notice kind="error">{p.error}</Notice> : null}
    {p.lines.length === 0 ? (
      <p>
        Your cart is empty. <a href="/">Browse the catalog</a>.
      </p>
    ) : (
      <>
        <LinesTable lines={p.lines} editable csrf={p.ctx.csrf} subtotal={p.subtotal} />
        {p.mixed ? <Notice kind="error">Your cart mixes currencies; one order is paid in one currency.</Notice> : null}
        <div class="actions">
          <a class="button" href="/checkout">
            Check out
          </a>
          <a href="/">Continue shopping</a>
        </div>
      </>
    )}
  </Layout>
);
