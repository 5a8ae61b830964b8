// The checkout in four steps: review the order, choose a delivery method, enter the address, check
// and pay.
import { COUNTRIES, countryName } from '../domain/countries.ts';
import type { Money } from '../../core/money.ts';
import type { DeliveryOption } from '../domain/checkout.ts';
import type { CartLineView } from '../storage/cart.ts';
import type { FrozenAddress } from '../storage/tables.ts';
import { LinesTable } from './cart.page.tsx';
import { CsrfField, Field, Layout, Notice, show, type PageCtx } from './layout.tsx';

const STEPS = ['Review order', 'Delivery', 'Address', 'Pay'] as const;

const Steps = ({ current }: { current: number }) => (
  <ol class="steps" aria-label="Checkout steps">
    {STEPS.map((s, i) => (
      <li
        class={i === current ? 'current' : i < current ? 'done' : ''}
        aria-current={i === current ? 'step' : undefined}
      >
        {s}
      </li>
    ))}
  </ol>
);

/** Step 1: the cart at today's prices; `blocked` when some line cannot be ordered. */
export const ReviewPage = (p: {
  ctx: PageCtx;
  lines: readonly CartLineView[];
  subtotal: Money | undefined;
  blocked: boolean;
}) => (
  <Layout ctx={p.ctx} title="Review your order">
    <Steps current={0} />
    <h1>Review your order</h1>
    <LinesTable lines={p.lines} editable={false} csrf={p.ctx.csrf} subtotal={p.subtotal} />
    {p.blocked ? <Notice kind="error">Some items cannot be ordered; change your cart first.</Notice> : null}
    <div class="actions">
      {p.blocked ? null : (
        <a class="button" href="/checkout/delivery">
          Continue to delivery
        </a>
      )}
      <a href="/cart">Change the cart</a>
    </div>
  </Layout>
);

/** Step 2: the delivery methods; the cart's choice is preselected, else the second method. */
export const DeliveryPage = (p: {
  ctx: PageCtx;
  methods: readonly DeliveryOption[];
  chosen: string | null;
  error?: string | undefined;
}) => (
  <Layout ctx={p.ctx} title="Delivery">
    <Steps current={1} />
    <h1>How should we deliver?</h1>
    <form method="post" action="/checkout/delivery" class="stack">
      <CsrfField token={p.ctx.csrf} />
      <div class={p.error ? 'field invalid' : 'field'}>
        <div class="options" role="radiogroup" aria-label="Delivery method">
          {p.methods.map((m, i) => (
            <label class="option">
              <input
                type="radio"
                name="deliveryMethodId"
                value={m.id}
                checked={p.chosen ? p.chosen === m.id : i === 1}
              />
              <span class="grow">
                <strong>{m.name}</strong>
                <br />
                <span class="muted">{m.description}</span>
              </span>
              <span class="price">{show(m.price)}</span>
            </label>
          ))}
        </div>
        {p.error ? (
          <div class="error" role="alert">
            {p.error}
          </div>
        ) : null}
      </div>
      <div class="actions">
        <button type="submit">Continue to address</button>
        <a href="/checkout">Back</a>
      </div>
    </form>
  </Layout>
);

export type AddressField = keyof FrozenAddress;

const ADDRESS_FIELDS: Array<[AddressField, string, string]> = [
  ['fullName', 'Full name', 'name'],
  ['line1', 'Street and number', 'address-line1'],
  ['line2', 'Apartment, floor (optional)', 'address-line2'],
  ['postalCode', 'Postal code', 'postal-code'],
  ['city', 'City', 'address-level2'],
];

/** The country, chosen from the ISO 3166 list (the server checks it against the same list). */
const CountryField = ({ value, error }: { value: string | undefined; error: string | undefined }) => (
  <div class={error ? 'field invalid' : 'field'}>
    <label for="f-country">Country</label>
    <select
      id="f-country"
      name="country"
      autocomplete="country"
      required
      aria-invalid={error ? 'true' : undefined}
      aria-describedby={error ? 'e-country' : undefined}
    >
      <option value="" selected={!value}>
        Choose a country…
      </option>
      {COUNTRIES.map((c) => (
        <option value={c.code} selected={value === c.code}>
          {c.name}
        </option>
      ))}
    </select>
    {error ? (
      <div class="error" id="e-country" role="alert">
        {error}
      </div>
    ) : null}
  </div>
);

/** Step 3: the address, prefilled with what was entered (or last used); errors per field. */
export const AddressPage = (p: {
  ctx: PageCtx;
  values: Partial<Record<AddressField, string>>;
  errors: Partial<Record<string, string>>;
}) => (
  <Layout ctx={p.ctx} title="Address">
    <Steps current={2} />
    <h1>Where should it go?</h1>
    <form method="post" action="/checkout/address" class="stack card">
      <CsrfField token={p.ctx.csrf} />
      {ADDRESS_FIELDS.map(([name, label, autocomplete]) => (
        <Field
          name={name}
          label={label}
          value={p.values[name]}
          error={p.errors[name]}
          autocomplete={autocomplete}
          required={name !== 'line2'}
        />
      ))}
      <CountryField value={p.values.country} error={p.errors.country} />
      <div class="actions">
        <button type="submit">Continue to payment</button>
        <a href="/checkout/delivery">Back</a>
      </div>
    </form>
  </Layout>
);

const DeliveryAndAddress = ({ method, address }: { method: DeliveryOption; address: FrozenAddress }) => (
  <div class="card">
    <h2>Delivery</h2>
    <p>
      {method.name}
      <br />
      <a href="/checkout/delivery">Change</a>
    </p>
    <h2>Address</h2>
    <p>
      {address.fullName}
      <br />
      {address.line1}
      {address.line2 ? (
        <>
          <br />
          {address.line2}
        </>
      ) : null}
      <br />
      {address.postalCode} {address.city}
      <br />
      {countryName(address.country)}
      <br />
      <a href="/checkout/address">Change</a>
    </p>
  </div>
);

/** Step 4: the summary and "Pay now", which posts the cart's id and nothing else. */
export const CheckoutPayPage = (p: {
  ctx: PageCtx;
  cartId: string;
  lines: readonly CartLineView[];
  subtotal: Money | undefined;
  total: Money | undefined;
  method: DeliveryOption;
  address: FrozenAddress;
  invoiceTtlSeconds: number;
}) => (
  <Layout ctx={p.ctx} title="Pay">
    <Steps current={3} />
    <h1>Check and pay</h1>
    <div class="two">
      <LinesTable
        lines={p.lines}
        editable={false}
        csrf={p.ctx.csrf}
        subtotal={p.subtotal}
        extra={[
          [`Delivery`, show(p.method.price)],
          ['Total', p.total ? show(p.total) : '—'],
        ]}
      />
      <DeliveryAndAddress method={p.method} address={p.address} />
    </div>
    <form method="post" action="/checkout/pay" class="actions">
      <CsrfField token={p.ctx.csrf} />
      <input type="hidden" name="cartId" value={p.cartId} />
      <button type="submit">Pay now</button>
      <span class="muted">
        Your order is placed at these prices and an invoice is issued, valid for {Math.round(p.invoiceTtlSeconds / 60)}{' '}
        minutes.
      </span>
    </form>
  </Layout>
);
