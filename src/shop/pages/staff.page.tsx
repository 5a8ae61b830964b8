// The staff console's pages: the front page and the products with their creation and edit forms (the
// paged lists are staff-lists.page.tsx).
import { toDecimalString } from '../../core/money.ts';
import type { LoginLimits } from '../domain/login-limit.ts';
import type { Product } from '../storage/catalog.ts';
import { COUNT_CAP } from '../storage/staff-lists.ts';
import type { StaffSummary } from '../storage/staff-views.ts';
import { CsrfField, Field, Layout, Notice, show, type PageCtx } from './layout.tsx';

type Errors = Partial<Record<string, string>>;

/** The console's navigation, on every staff page. */
export const StaffNav = () => (
  <p class="actions">
    <a href="/staff/orders">Orders</a>
    <a href="/staff/invoices">Invoices</a>
    <a href="/staff/customers">Customers</a>
    <a href="/staff/products">Products</a>
    <a href="/staff/payments">Payments</a>
    <a href="/staff/refunds">Refunds</a>
    <a href="/staff/disputes">Disputes</a>
  </p>
);

/** A front-page count: exact up to COUNT_CAP, "10,000+" beyond (the count stops there). */
const upToCap = (n: number) => (n > COUNT_CAP ? `${COUNT_CAP.toLocaleString('en-US')}+` : String(n));

/** The console's front page: counts, and the login limits with who they refuse now. */
export const StaffHomePage = ({
  ctx,
  summary: s,
  login,
}: {
  ctx: PageCtx;
  summary: StaffSummary;
  login: LoginLimits;
}) => (
  <Layout ctx={ctx} title="Staff">
    <h1>Staff console</h1>
    <StaffNav />
    <div class="grid">
      <a class="card" href="/staff/orders">
        <strong>{upToCap(s.orders)}</strong> orders, {upToCap(s.awaitingPayment)} awaiting payment
      </a>
      <a class="card" href="/staff/invoices">
        <strong>{upToCap(s.invoices)}</strong> invoices
      </a>
      <a class="card" href="/staff/customers">
        <strong>{upToCap(s.customers)}</strong> customers
      </a>
      <a class="card" href="/staff/products">
        <strong>{s.productsForSale}</strong> products for sale
      </a>
    </div>
    <section class="card" data-testid="login-limits">
      <h2>Login limits</h2>
      <p>
        At most {login.maxFailuresPerAccount} failed logins per account and {login.maxFailuresPerAddress} per address
        within {Math.ceil(login.windowSeconds / 60)} minutes; further attempts are refused until the window passes.
      </p>
      <p>
        Refused right now: <strong data-testid="blocked-accounts">{s.blocked.accounts}</strong> accounts,{' '}
        <strong data-testid="blocked-addresses">{s.blocked.addresses}</strong> addresses.
      </p>
    </section>
  </Layout>
);

/** Every product, archived ones too, and the form for a new one (`values`/`errors` echo a refused one). */
export const StaffProductsPage = (p: {
  ctx: PageCtx;
  products: readonly Product[];
  values?: Record<string, string>;
  errors?: Errors;
}) => (
  <Layout ctx={p.ctx} title="Products">
    <h1>Products</h1>
    <StaffNav />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Product</th>
            <th>State</th>
            <th class="num">Price</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.products.map((prod) => (
            <tr data-testid="staff-product">
              <td>
                <a href={`/products/${prod.id}`}>{prod.name}</a>
              </td>
              <td>{prod.archived ? 'archived' : 'for sale'}</td>
              <td class="num">{show(prod.price)}</td>
              <td>
                <a href={`/staff/products/${prod.id}`}>Edit</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <h2>New product</h2>
    <form class="stack card" method="post" action="/staff/products">
      <CsrfField token={p.ctx.csrf} />
      <Field name="name" label="Name" value={p.values?.name} error={p.errors?.name} required />
      <Field name="description" label="Description" value={p.values?.description} error={p.errors?.description} />
      <Field
        name="price"
        label="Price (EUR)"
        value={p.values?.price}
        error={p.errors?.price}
        inputmode="text"
        hint="For example 12.50"
        required
      />
      <div class="actions">
        <button type="submit">Create product</button>
      </div>
    </form>
  </Layout>
);

/** One product: change its price, archive it. `saved` after a change; `price`/`error` echo a refused price. */
export const ProductEditPage = (p: {
  ctx: PageCtx;
  product: Product;
  price?: string | undefined;
  error?: string;
  saved?: boolean;
}) => (
  <Layout ctx={p.ctx} title={`Edit ${p.product.name}`}>
    <h1>{p.product.name}</h1>
    <StaffNav />
    {p.saved ? <Notice kind="ok">Saved. Existing orders keep the price they were placed at.</Notice> : null}
    <p>
      Current price{' '}
      <span class="price" data-testid="current-price">
        {show(p.product.price)}
      </span>{' '}
      · {p.product.archived ? 'archived' : 'for sale'}
    </p>
    <form class="stack card" method="post" action={`/staff/products/${p.product.id}/price`}>
      <CsrfField token={p.ctx.csrf} />
      <Field
        name="price"
        label="New price (EUR)"
        value={p.price ?? toDecimalString(p.product.price)}
        error={p.error}
        required
      />
      <div class="actions">
        <button type="submit">Change price</button>
      </div>
    </form>
    {p.product.archived ? null : (
      <form method="post" action={`/staff/products/${p.product.id}/archive`} class="actions">
        <CsrfField token={p.ctx.csrf} />
        <button class="danger" type="submit">
          Archive product
        </button>
        <span class="muted">It leaves the catalog; old orders still show it.</span>
      </form>
    )}
  </Layout>
);
