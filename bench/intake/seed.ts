// Seeds the state a real checkout leaves behind, thousands of times over, fast: ONE checkout goes
// through the shop's own domain functions (cart, delivery, address, placeOrder, startPayment against an
// in-memory gateway, so the attempt holds a gateway session id), and that checkout's rows (cart,
// order, order lines, invoice, attempt) are then cloned in SQL with fresh ids. A clone is what another
// checkout of the same cart would leave; only ids and timestamps differ.
import { eq, sql } from 'drizzle-orm';
import { systemClock } from '../../src/platform/clock.ts';
import { rows, type Database } from '../../src/platform/db/database.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../../src/shop/storage/cart.ts';
import { ensureDemoData } from '../../src/shop/storage/demo-data.ts';
import { placeOrder } from '../../src/shop/commands/place-order.ts';
import { deliveryMethods, invoices, paymentAttempts, products, users } from '../../src/shop/storage/tables.ts';
import { startPayment } from '../../src/shop/commands/start-payment.ts';
import { FakeGateway } from '../../src/shop/adapters/gateway.fake.ts';

/** One pre-created invoice waiting for its `payment.authorized`. */
export interface SeededInvoice {
  readonly invoiceId: string;
  readonly sessionId: string;
}

/** A seeded batch: ids are `<prefix>_<tag><n>` for n in 1..count (alphanumeric, as the intake's id check wants). */
export interface SeededBatch {
  readonly tag: string;
  readonly count: number;
  readonly amount: { readonly minor: string; readonly currency: string };
  readonly invoices: SeededInvoice[];
}

interface Template {
  cartId: string;
  orderId: string;
  invoiceId: string;
  attemptId: string;
  amount: { minor: string; currency: string };
}

/** Demo data plus one checkout done through the domain functions: the row set every clone copies. */
async function templateCheckout(database: Database): Promise<Template> {
  const clock = systemClock;
  await ensureDemoData(database, clock.now());
  const db = database.db;
  const [customer] = await db.select().from(users).where(eq(users.email, 'customer@shop.test'));
  const catalog = await db.select().from(products).limit(2);
  const [delivery] = await db.select().from(deliveryMethods).limit(1);
  if (!customer || catalog.length < 2 || !delivery)
    throw new Error('intake bench: demo data missing (customer, products, delivery methods)');
  for (const p of catalog) await addToCart(db, customer.id, p.id, 1, clock.now());
  await chooseCartDelivery(db, customer.id, delivery.id, clock.now());
  await saveCartAddress(
    db,
    customer.id,
    {
      fullName: 'Bench Customer',
      line1: '1 Load Street',
      line2: '',
      postalCode: '10115',
      city: 'Berlin',
      country: 'DE',
    },
    clock.now(),
  );
  const order = await placeOrder(db, customer.id, clock.now());
  const gateway = new FakeGateway();
  const started = await startPayment(
    { database, gateway, clock, publicUrl: 'http://127.0.0.1', invoiceTtlSeconds: 6 * 3600 },
    order.id,
    customer.id,
  );
  const [attempt] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.id, started.attemptId));
  const [invoice] = await db.select().from(invoices).where(eq(invoices.id, started.invoice.id));
  if (!attempt?.gatewaySessionId || attempt.status !== 'session_created' || !invoice)
    throw new Error(`intake bench: template checkout left attempt ${attempt?.status ?? 'missing'}`);
  return {
    cartId: order.cartId,
    orderId: order.id,
    invoiceId: invoice.id,
    attemptId: attempt.id,
    amount: { minor: invoice.amountMinor.toString(), currency: invoice.currency },
  };
}

const templates = new WeakMap<Database, Promise<Template>>();

/**
 * Clones one table's template row(s) once per n in [from, to], overriding columns with SQL expressions
 * of n and of `j` (the template row as jsonb). The template is read once (a materialised CTE), so the
 * plan cannot turn into one scan of the table per clone.
 */
async function cloneRows(
  executor: Database['db'],
  table: string,
  where: string,
  from: number,
  to: number,
  overrides: Record<string, string>,
): Promise<void> {
  const patch = Object.entries(overrides)
    .map(([column, expr]) => `'${column}', ${expr}`)
    .join(', ');
  await executor.execute(
    sql.raw(`
    with tpl as materialized (select to_jsonb(t) as j from ${table} t where ${where})
    insert into ${table}
    select (jsonb_populate_record(null::${table}, tpl.j || jsonb_build_object(${patch}))).*
    from tpl, generate_series(${from}, ${to}) as n`),
  );
}

/**
 * Creates `count` invoices, each open (expiring in 6 h) with one attempt in `session_created` holding a
 * distinct gateway session id. `tag` (letters only) keeps batches apart. Inserted in chunks.
 */
export async function seedInvoices(
  database: Database,
  count: number,
  tag: string,
  progress: (line: string) => void = () => undefined,
): Promise<SeededBatch> {
  if (!/^[A-Za-z]{1,8}$/.test(tag)) throw new Error('seedInvoices: tag must be 1..8 letters');
  if (!templates.has(database)) templates.set(database, templateCheckout(database));
  const t = await templates.get(database)!;
  const id = (prefix: string) => `'${prefix}_${tag}' || n`;
  const chunk = 5000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    await database.transaction(async (tx) => {
      const scoped = tx as unknown as Database['db'];
      await cloneRows(scoped, 'carts', `t.id = '${t.cartId}'`, from, to, { id: id('cart') });
      await cloneRows(scoped, 'orders', `t.id = '${t.orderId}'`, from, to, {
        id: id('ord'),
        cart_id: id('cart'),
        // Each order's customer-facing number is unique: drawn from its sequence, not copied.
        number: `nextval(pg_get_serial_sequence('orders', 'number'))`,
        created_at: 'now()',
        updated_at: 'now()',
      });
      await cloneRows(scoped, 'order_lines', `t.order_id = '${t.orderId}'`, from, to, {
        id: `'line_${tag}' || n || 'p' || (j->>'position')`,
        order_id: id('ord'),
      });
      await cloneRows(scoped, 'invoices', `t.id = '${t.invoiceId}'`, from, to, {
        id: id('inv'),
        order_id: id('ord'),
        created_at: 'now()',
        expires_at: `now() + interval '6 hours'`,
      });
      await cloneRows(scoped, 'payment_attempts', `t.id = '${t.attemptId}'`, from, to, {
        id: id('att'),
        invoice_id: id('inv'),
        gateway_session_id: id('ps'),
        redirect_url: `'http://gateway.invalid/pay/ps_${tag}' || n`,
        created_at: 'now()',
        updated_at: 'now()',
      });
    });
    if (count > chunk) progress(`  seeded ${to}/${count} invoices (${tag})`);
  }
  await database.db.execute(sql.raw('analyze carts, orders, order_lines, invoices, payment_attempts'));
  const invoicesOut: SeededInvoice[] = [];
  for (let n = 1; n <= count; n++) invoicesOut.push({ invoiceId: `inv_${tag}${n}`, sessionId: `ps_${tag}${n}` });
  return { tag, count, amount: t.amount, invoices: invoicesOut };
}

/** Counts the seeded invoices of a batch still open (a check that the seeding did what it says). */
export async function openInvoicesOf(database: Database, tag: string): Promise<number> {
  const r = await rows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from invoices where id like ${`inv_${tag}%`} and status = 'open'`,
  );
  return Number(r[0]?.n ?? 0);
}
