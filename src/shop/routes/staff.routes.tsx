// The staff console: orders, invoices, customers, and product management (create, change the price —
// which never touches existing orders, whose lines carry their own price — and archive).
import type { Hono } from 'hono';
import { isDomainError } from '../../core/errors.ts';
import { parseDecimal, toDecimalString } from '../../core/money.ts';
import { CsrfField, Field, Layout, Notice, Status, show, showMoney, type PageCtx } from '../pages/layout.tsx';
import { listUsers } from '../storage/accounts.ts';
import { blockedNow } from '../storage/login-attempts.ts';
import { archiveProduct, changeProductPrice, createProduct, getProduct, listProducts, type Product } from '../storage/catalog.ts';
import { listInvoices, listOrders, shownInvoiceStatus } from '../storage/orders.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';
import { DomainError } from '../../core/errors.ts';

type Errors = Partial<Record<string, string>>;
const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

const StaffNav = () => (
  <p class="actions">
    <a href="/staff/orders">Orders</a>
    <a href="/staff/invoices">Invoices</a>
    <a href="/staff/customers">Customers</a>
    <a href="/staff/products">Products</a>
    <a href="/staff/payments">Payments</a>
    <a href="/staff/refunds">Refunds</a>
  </p>
);

function readPrice(input: string | undefined): { minor: bigint } | { error: string } {
  try {
    const m = parseDecimal((input ?? '').trim(), 'EUR');
    if (m.minor <= 0n) return { error: 'The price must be above zero.' };
    if (m.minor > 100_000_000n) return { error: 'The price must be at most 1,000,000.00.' };
    return { minor: m.minor };
  } catch {
    return { error: 'Enter a price like 12.50 (at most two decimals).' };
  }
}

/** Mounts the staff console under /staff (staff only). */
export function staffRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const { database, clock } = deps;
  const db = database.db;

  app.use('/staff', gate);
  app.use('/staff/*', gate);
  async function gate(c: ShopContext, next: () => Promise<void>) {
    const user = requireUser(c);
    if (user instanceof Response) return user;
    // Customers are told nothing about the console, as for any page they may not see.
    if (user.role !== 'staff') return denied(c, deps);
    await next();
  }

  app.get('/staff', async (c) => {
    const login = deps.settings.login;
    const [orders, invoices, users, products, blocked] = await Promise.all([
      listOrders(db),
      listInvoices(db),
      listUsers(db),
      listProducts(db, { includeArchived: true }),
      blockedNow(db, deps.clock.now(), login),
    ]);
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Staff">
        <h1>Staff console</h1>
        <StaffNav />
        <div class="grid">
          <a class="card" href="/staff/orders"><strong>{orders.length}</strong> orders, {orders.filter((o) => o.order.status === 'awaiting_payment').length} awaiting payment</a>
          <a class="card" href="/staff/invoices"><strong>{invoices.length}</strong> invoices</a>
          <a class="card" href="/staff/customers"><strong>{users.filter((u) => u.role === 'customer').length}</strong> customers</a>
          <a class="card" href="/staff/products"><strong>{products.filter((p) => !p.archived).length}</strong> products for sale</a>
        </div>
        <section class="card" data-testid="login-limits">
          <h2>Login limits</h2>
          <p>
            At most {login.maxFailuresPerAccount} failed logins per account and {login.maxFailuresPerAddress} per address within{' '}
            {Math.ceil(login.windowSeconds / 60)} minutes; further attempts are refused until the window passes.
          </p>
          <p>
            Refused right now: <strong data-testid="blocked-accounts">{blocked.accounts}</strong> accounts,{' '}
            <strong data-testid="blocked-addresses">{blocked.addresses}</strong> addresses.
          </p>
        </section>
      </Layout>,
    );
  });

  app.get('/staff/orders', async (c) => {
    const rows = await listOrders(db);
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Orders">
        <h1>Orders</h1>
        <StaffNav />
        <div class="table-wrap">
          <table>
            <thead><tr><th>Order</th><th>Customer</th><th>Placed</th><th>Status</th><th class="num">Total</th></tr></thead>
            <tbody>
              {rows.map(({ order, email }) => (
                <tr data-testid="staff-order">
                  <td><a href={`/staff/orders/${order.id}`}>{order.id}</a></td>
                  <td>{email}</td>
                  <td>{when(order.createdAt)}</td>
                  <td><Status status={order.status} /></td>
                  <td class="num">{showMoney(order.totalMinor, order.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  app.get('/staff/invoices', async (c) => {
    const rows = await listInvoices(db);
    const now = clock.now();
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Invoices">
        <h1>Invoices</h1>
        <StaffNav />
        <div class="table-wrap">
          <table>
            <thead><tr><th>Invoice</th><th>Order</th><th>Owner</th><th>Created</th><th>Expires</th><th>Status</th><th class="num">Amount</th></tr></thead>
            <tbody>
              {rows.map((inv) => (
                <tr data-testid="staff-invoice">
                  <td><a href={`/invoices/${inv.id}`}>{inv.id}</a></td>
                  <td><a href={`/orders/${inv.orderId}`}>{inv.orderId}</a></td>
                  <td>{inv.email}</td>
                  <td>{when(inv.createdAt)}</td>
                  <td>{when(inv.expiresAt)}</td>
                  <td><Status status={shownInvoiceStatus(inv, now)} /></td>
                  <td class="num">{showMoney(inv.amountMinor, inv.currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  app.get('/staff/customers', async (c) => {
    const rows = await listUsers(db);
    return c.html(
      <Layout ctx={await pageCtx(c, deps)} title="Customers">
        <h1>Customers</h1>
        <StaffNav />
        <div class="table-wrap">
          <table>
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Since</th></tr></thead>
            <tbody>
              {rows.map((u) => (
                <tr data-testid="staff-customer"><td>{u.name}</td><td>{u.email}</td><td>{u.role}</td><td>{when(u.createdAt)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  const ProductsPage = async (p: { ctx: PageCtx; values?: Record<string, string>; errors?: Errors }) => {
    const products = await listProducts(db, { includeArchived: true });
    return (
      <Layout ctx={p.ctx} title="Products">
        <h1>Products</h1>
        <StaffNav />
        <div class="table-wrap">
          <table>
            <thead><tr><th>Product</th><th>State</th><th class="num">Price</th><th></th></tr></thead>
            <tbody>
              {products.map((prod) => (
                <tr data-testid="staff-product">
                  <td><a href={`/products/${prod.id}`}>{prod.name}</a></td>
                  <td>{prod.archived ? 'archived' : 'for sale'}</td>
                  <td class="num">{show(prod.price)}</td>
                  <td><a href={`/staff/products/${prod.id}`}>Edit</a></td>
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
          <Field name="price" label="Price (EUR)" value={p.values?.price} error={p.errors?.price} inputmode="text" hint="For example 12.50" required />
          <div class="actions"><button type="submit">Create product</button></div>
        </form>
      </Layout>
    );
  };

  app.get('/staff/products', async (c) => c.html(await ProductsPage({ ctx: await pageCtx(c, deps) })));

  app.post('/staff/products', async (c) => {
    const form = await readForm(c);
    const values = { name: (form.name ?? '').trim(), description: (form.description ?? '').trim(), price: form.price ?? '' };
    const errors: Errors = {};
    if (!values.name || values.name.length > 120) errors.name = 'Enter a name of up to 120 characters.';
    if (values.description.length > 2000) errors.description = 'Keep the description under 2000 characters.';
    const price = readPrice(values.price);
    if ('error' in price) errors.price = price.error;
    if (Object.keys(errors).length > 0 || 'error' in price) return c.html(await ProductsPage({ ctx: await pageCtx(c, deps), values, errors }), 422);
    const product = await createProduct(db, { name: values.name, description: values.description, price: { minor: price.minor, currency: 'EUR' } }, c.get('user')!.id, clock.now());
    return c.redirect(`/staff/products/${product.id}`, 303);
  });

  const EditPage = (p: { ctx: PageCtx; product: Product; price?: string; error?: string; saved?: boolean }) => (
    <Layout ctx={p.ctx} title={`Edit ${p.product.name}`}>
      <h1>{p.product.name}</h1>
      <StaffNav />
      {p.saved ? <Notice kind="ok">Saved. Existing orders keep the price they were placed at.</Notice> : null}
      <p>
        Current price <span class="price" data-testid="current-price">{show(p.product.price)}</span> · {p.product.archived ? 'archived' : 'for sale'}
      </p>
      <form class="stack card" method="post" action={`/staff/products/${p.product.id}/price`}>
        <CsrfField token={p.ctx.csrf} />
        <Field name="price" label="New price (EUR)" value={p.price ?? toDecimalString(p.product.price)} error={p.error} required />
        <div class="actions"><button type="submit">Change price</button></div>
      </form>
      {p.product.archived ? null : (
        <form method="post" action={`/staff/products/${p.product.id}/archive`} class="actions">
          <CsrfField token={p.ctx.csrf} />
          <button class="danger" type="submit">Archive product</button>
          <span class="muted">It leaves the catalog; old orders still show it.</span>
        </form>
      )}
    </Layout>
  );

  app.get('/staff/products/:id', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    return c.html(<EditPage ctx={await pageCtx(c, deps)} product={product} saved={c.req.query('saved') === '1'} />);
  });

  app.post('/staff/products/:id/price', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    const form = await readForm(c);
    const price = readPrice(form.price);
    if ('error' in price) return c.html(<EditPage ctx={await pageCtx(c, deps)} product={product} price={form.price} error={price.error} />, 422);
    try {
      await changeProductPrice(db, product.id, { minor: price.minor, currency: product.price.currency }, c.get('user')!.id, clock.now());
    } catch (err) {
      if (!isDomainError(err, 'money.currency_mismatch')) throw err;
      return c.html(<EditPage ctx={await pageCtx(c, deps)} product={product} price={form.price} error="The price must stay in the product's currency." />, 422);
    }
    return c.redirect(`/staff/products/${product.id}?saved=1`, 303);
  });

  app.post('/staff/products/:id/archive', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    await archiveProduct(db, product.id, c.get('user')!.id, clock.now());
    return c.redirect(`/staff/products/${product.id}?saved=1`, 303);
  });
}
