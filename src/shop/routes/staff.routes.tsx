// The staff console: orders, invoices, customers, and product management (create, change the price —
// which never touches existing orders, whose lines carry their own price — and archive).
import type { Hono } from 'hono';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { parseDecimal } from '../../core/money.ts';
import { INVOICE_STATUSES } from '../domain/invoice.machine.ts';
import { ORDER_STATUSES } from '../domain/order.machine.ts';
import { ErrorPage } from '../pages/layout.tsx';
import { StaffCustomersPage, StaffInvoicesPage, StaffOrdersPage } from '../pages/staff-lists.page.tsx';
import { ProductEditPage, StaffHomePage, StaffProductsPage } from '../pages/staff.page.tsx';
import { archiveProduct, changeProductPrice, createProduct, getProduct, listProducts } from '../storage/catalog.ts';
import { staffAccountsPage, staffInvoicesPage, staffOrdersPage } from '../storage/staff-lists.ts';
import { staffSummary } from '../storage/staff-views.ts';
import type { ShopContext, ShopDeps, ShopEnv } from './context.ts';
import { denied, errorPage, pageCtx, readForm, requireUser } from './helpers.tsx';
import { pageLinks, parseListQuery, type ParsedList } from './staff-list-query.ts';

const ROLES = ['customer', 'staff'] as const;

type Errors = Partial<Record<string, string>>;
type ProductForm = { name: string; description: string; price: string };

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

/** The new-product form, read and checked; the values to echo and the errors when refused. */
function readNewProduct(form: Record<string, string>): { values: ProductForm; errors: Errors; minor?: bigint } {
  const values = {
    name: (form.name ?? '').trim(),
    description: (form.description ?? '').trim(),
    price: form.price ?? '',
  };
  const errors: Errors = {};
  if (!values.name || values.name.length > 120) errors.name = 'Enter a name of up to 120 characters.';
  if (values.description.length > 2000) errors.description = 'Keep the description under 2000 characters.';
  const price = readPrice(values.price);
  if ('error' in price) errors.price = price.error;
  return 'error' in price ? { values, errors } : { values, errors, minor: price.minor };
}

/** A staff list's query string read and checked, or the 400 page saying what is wrong and what is allowed. */
export async function readListQuery(
  c: ShopContext,
  deps: ShopDeps,
  statuses: readonly string[],
): Promise<Extract<ParsedList, { ok: true }> | Response> {
  const parsed = parseListQuery(c.req.query(), statuses);
  if (parsed.ok) return parsed;
  return c.html(
    <ErrorPage ctx={await pageCtx(c, deps)} title="That list cannot be shown" message={parsed.error} />,
    400,
  );
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
    const summary = await staffSummary(db, clock.now(), login);
    return c.html(<StaffHomePage ctx={await pageCtx(c, deps)} summary={summary} login={login} />);
  });

  app.get('/staff/orders', async (c) => {
    const list = await readListQuery(c, deps, ORDER_STATUSES);
    if (list instanceof Response) return list;
    const page = await staffOrdersPage(db, list.query);
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: ORDER_STATUSES };
    return c.html(<StaffOrdersPage {...view} {...pageLinks('/staff/orders', list.params, page)} rows={page.rows} />);
  });

  app.get('/staff/invoices', async (c) => {
    const list = await readListQuery(c, deps, INVOICE_STATUSES);
    if (list instanceof Response) return list;
    const now = clock.now();
    const page = await staffInvoicesPage(db, list.query, now);
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: INVOICE_STATUSES, now };
    return c.html(
      <StaffInvoicesPage {...view} {...pageLinks('/staff/invoices', list.params, page)} rows={page.rows} />,
    );
  });

  app.get('/staff/customers', async (c) => {
    const list = await readListQuery(c, deps, ROLES);
    if (list instanceof Response) return list;
    const page = await staffAccountsPage(db, list.query);
    const view = { ctx: await pageCtx(c, deps), params: list.params, statuses: ROLES };
    return c.html(
      <StaffCustomersPage {...view} {...pageLinks('/staff/customers', list.params, page)} rows={page.rows} />,
    );
  });

  app.get('/staff/products', async (c) => {
    const products = await listProducts(db, { includeArchived: true });
    return c.html(<StaffProductsPage ctx={await pageCtx(c, deps)} products={products} />);
  });

  app.post('/staff/products', async (c) => {
    const { values, errors, minor } = readNewProduct(await readForm(c));
    if (Object.keys(errors).length > 0 || minor === undefined) {
      const products = await listProducts(db, { includeArchived: true });
      return c.html(
        <StaffProductsPage ctx={await pageCtx(c, deps)} products={products} values={values} errors={errors} />,
        422,
      );
    }
    const product = await createProduct(
      db,
      { name: values.name, description: values.description, price: { minor, currency: 'EUR' } },
      c.get('user')!.id,
      clock.now(),
    );
    return c.redirect(`/staff/products/${product.id}`, 303);
  });

  app.get('/staff/products/:id', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    return c.html(
      <ProductEditPage ctx={await pageCtx(c, deps)} product={product} saved={c.req.query('saved') === '1'} />,
    );
  });

  app.post('/staff/products/:id/price', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    const form = await readForm(c);
    const price = readPrice(form.price);
    if ('error' in price)
      return c.html(
        <ProductEditPage ctx={await pageCtx(c, deps)} product={product} price={form.price} error={price.error} />,
        422,
      );
    try {
      await changeProductPrice(
        db,
        product.id,
        { minor: price.minor, currency: product.price.currency },
        c.get('user')!.id,
        clock.now(),
      );
    } catch (err) {
      if (!isDomainError(err, 'money.currency_mismatch')) throw err;
      return c.html(
        <ProductEditPage
          ctx={await pageCtx(c, deps)}
          product={product}
          price={form.price}
          error="The price must stay in the product's currency."
        />,
        422,
      );
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
