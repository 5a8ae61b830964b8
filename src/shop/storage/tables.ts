// The shop's own tables. Amounts are bigint minor units with their currency beside them. Products are
// archived, never deleted; order lines keep the name and unit price they were sold at; invoices are
// written once and only their status (and the valid flag that mirrors it) moves afterwards. The payment
// tables (attempts, gateway events, webhook receipts and refusals, refunds) are in payment-tables.ts,
// re-exported here so that every importer keeps one place to import the shop's tables from.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  smallint,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Role } from '../domain/access.ts';
import type { InvoiceStatus } from '../domain/invoice.machine.ts';
import type { CartStatus } from '../domain/cart.machine.ts';
import type { OrderStatus } from '../domain/order.machine.ts';
import { minor, ts } from './columns.ts';

export * from './payment-tables.ts';
export * from './dispute-tables.ts';

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    // Stored lower-cased, so that the unique constraint is case-insensitive.
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<Role>().notNull().default('customer'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('users_created_idx').on(t.createdAt, t.id)],
);

export const loginSessions = pgTable(
  'login_sessions',
  {
    id: text('id').primaryKey(),
    // sha256 of the cookie's token: a leaked table does not log anyone in.
    tokenHash: text('token_hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('login_sessions_user_idx').on(t.userId)],
);

// Failed logins per (email, ip), in the database so that the limit holds across nodes.
export const loginFailures = pgTable(
  'login_failures',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    keyHash: text('key_hash').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [index('login_failures_key_idx').on(t.keyHash, t.at)],
);

export const products = pgTable('products', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  priceMinor: minor('price_minor').notNull(),
  currency: text('currency').notNull(),
  // A hue for the image placeholder: no uploads in this shop.
  imageHue: integer('image_hue').notNull().default(210),
  archived: boolean('archived').notNull().default(false),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const deliveryMethods = pgTable('delivery_methods', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  priceMinor: minor('price_minor').notNull(),
  currency: text('currency').notNull(),
  active: boolean('active').notNull().default(true),
  position: integer('position').notNull().default(0),
});

export const addresses = pgTable('addresses', {
  id: text('id').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id),
  fullName: text('full_name').notNull(),
  line1: text('line1').notNull(),
  line2: text('line2').notNull().default(''),
  postalCode: text('postal_code').notNull(),
  city: text('city').notNull(),
  country: text('country').notNull(),
  createdAt: ts('created_at').notNull(),
});

export const carts = pgTable(
  'carts',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    // open while shopping; ordered once "Pay now" turned it into an order (then it is read-only).
    status: text('status').$type<CartStatus>().notNull().default('open'),
    deliveryMethodId: text('delivery_method_id').references(() => deliveryMethods.id),
    addressId: text('address_id').references(() => addresses.id),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [uniqueIndex('carts_one_open_per_user').on(t.userId).where(sql`status = 'open'`)],
);

export const cartLines = pgTable(
  'cart_lines',
  {
    cartId: text('cart_id')
      .notNull()
      .references(() => carts.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    quantity: integer('quantity').notNull(),
    addedAt: ts('added_at').notNull(),
  },
  (t) => [uniqueIndex('cart_lines_pk').on(t.cartId, t.productId)],
);

/** The address as it was when ordered: later edits of the address book do not move parcels. */
export interface FrozenAddress {
  fullName: string;
  line1: string;
  line2: string;
  postalCode: string;
  city: string;
  country: string;
}

export const orders = pgTable(
  'orders',
  {
    id: text('id').primaryKey(),
    // The order number customers see ("Order 12"): sequential per shop, never reused; the id stays internal.
    number: serial('number').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    // The cart it came from: a repeated "Pay now" finds this order instead of making a second one.
    cartId: text('cart_id')
      .notNull()
      .unique()
      .references(() => carts.id),
    status: text('status').$type<OrderStatus>().notNull(),
    currency: text('currency').notNull(),
    subtotalMinor: minor('subtotal_minor').notNull(),
    deliveryMethodId: text('delivery_method_id')
      .notNull()
      .references(() => deliveryMethods.id),
    deliveryName: text('delivery_name').notNull(),
    deliveryMinor: minor('delivery_minor').notNull(),
    totalMinor: minor('total_minor').notNull(),
    address: jsonb('address').$type<FrozenAddress>().notNull(),
    // Incremented by every revision; the invoice records the version it was issued for.
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('orders_user_idx').on(t.userId, t.createdAt),
    // The staff list's order and keyset (newest first, the id breaking ties).
    index('orders_created_idx').on(t.createdAt, t.id),
    // The same order within one status: a filter on a rare status reads its rows, not the whole list.
    index('orders_status_created_idx').on(t.status, t.createdAt, t.id),
    // The refunds page's "paid orders" (most recently changed first): a walk of its newest rows, not a sort of them all.
    index('orders_paid_updated_idx').on(t.updatedAt).where(sql`status in ('paid', 'refunded')`),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    productId: text('product_id')
      .notNull()
      .references(() => products.id),
    position: integer('position').notNull(),
    // Frozen at ordering (seed 002): the catalog may rename or reprice the product later.
    name: text('name').notNull(),
    unitPriceMinor: minor('unit_price_minor').notNull(),
    currency: text('currency').notNull(),
    quantity: integer('quantity').notNull(),
    lineTotalMinor: minor('line_total_minor').notNull(),
  },
  (t) => [index('order_lines_order_idx').on(t.orderId, t.position)],
);

export const invoices = pgTable(
  'invoices',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    orderVersion: integer('order_version').notNull(),
    // The owner (seed 002: "whose account is this?"), copied from the order for the access check.
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<InvoiceStatus>().notNull(),
    valid: boolean('valid').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    // When the status left open (paid, expired, voided, cancelled), for audit and display only.
    closedAt: ts('closed_at'),
    paidAt: ts('paid_at'),
  },
  (t) => [
    index('invoices_order_idx').on(t.orderId, t.createdAt),
    index('invoices_user_idx').on(t.userId),
    index('invoices_created_idx').on(t.createdAt, t.id),
    index('invoices_status_created_idx').on(t.status, t.createdAt, t.id),
    // At most one open invoice per order: "Pay now" races cannot issue two.
    uniqueIndex('invoices_one_open_per_order').on(t.orderId).where(sql`status = 'open'`),
  ],
);

// The outbox: every order-status change writes one row here and one job in the same transaction;
// the worker signs and delivers them to warehouse and CRM integrations.
export const orderStatusEvents = pgTable(
  'order_status_events',
  {
    id: text('id').primaryKey(),
    // Commit-independent but insert-ordered: events of one order are delivered in this order.
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    orderId: text('order_id')
      .notNull()
      .references(() => orders.id),
    invoiceId: text('invoice_id'),
    fromStatus: text('from_status').$type<OrderStatus | null>(),
    toStatus: text('to_status').$type<OrderStatus>().notNull(),
    occurredAt: ts('occurred_at').notNull(),
    payload: jsonb('payload').notNull(),
  },
  (t) => [index('order_status_events_order_idx').on(t.orderId, t.occurredAt)],
);

// Append-only, hash-chained. A business transaction inserts its entries unsealed (no position, no
// hashes); the sealer (src/shop/audit/sealer.ts) then gives each committed entry, in the order it
// finds them committed, the next position and a hash over its position, content and the previous
// hash, so an edited, deleted or reordered sealed row breaks the chain from there on. A trigger
// (migration 0016) refuses deletes and every update but that one sealing of an unsealed row.
// Entries chained before the sealer (version 1) keep their hashes; their position is their seq.
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull().unique(),
    at: ts('at').notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    data: jsonb('data').notNull(),
    // Null until sealed, all four together.
    chainPos: bigint('chain_pos', { mode: 'number' }),
    chainVersion: smallint('chain_version'),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    // An order's trail (the staff order page): its entries by subject, and those naming it in their data.
    index('audit_log_subject_idx').on(t.subject, t.seq),
    index('audit_log_order_idx').on(sql`(data->>'orderId')`),
    uniqueIndex('audit_log_chain_pos_idx').on(t.chainPos),
    index('audit_log_unsealed_idx').on(t.seq).where(sql`hash is null`),
    check(
      'audit_log_sealed_whole',
      sql`(chain_pos is null and chain_version is null and prev_hash is null and hash is null) or (chain_pos is not null and chain_version is not null and prev_hash is not null and hash is not null)`,
    ),
  ],
);

/**
 * Where the sealed chain ends: one row, the last sealed position and its hash. Every seal moves it
 * from the position it read, in the statement that seals (a compare-and-set under its row lock), so
 * two sealers can never both extend the chain from the same end.
 */
export const auditChainTip = pgTable(
  'audit_chain_tip',
  {
    one: boolean('one').primaryKey().default(true),
    pos: bigint('pos', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [check('audit_chain_tip_one_row', sql`${t.one}`)],
);

/** What the shop tells a customer about their orders (shown on "my orders" and the order page). */
export const customerNotifications = pgTable(
  'customer_notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    orderId: text('order_id').references(() => orders.id),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('customer_notifications_user_idx').on(t.userId, t.createdAt)],
);
