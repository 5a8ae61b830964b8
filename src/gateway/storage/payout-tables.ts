// Payouts: what the gateway paid (or tried to pay) to a merchant's bank account, and the captured
// payments each covers. The money itself moves in the ledger (domain/ledger.payout.ts); these rows
// say what a payout is, its state and its payments. Amounts are bigint minor units of the currency.
import { bigint, check, index, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { PayoutStatus } from '../domain/payout.machine.ts';
import { merchants } from './tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const payouts = pgTable(
  'payouts',
  {
    // po_…, also the payout's key at the bank (a retried request names the same payout).
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    currency: text('currency').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    // pending | paid | failed; see payout.machine.ts (one writer: storage/payouts.ts)
    status: text('status').$type<PayoutStatus>().notNull(),
    failureCode: text('failure_code'),
    createdAt: ts('created_at').notNull(),
    // When the bank credited the merchant's account.
    arrivedAt: ts('arrived_at'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('payouts_merchant_idx').on(t.merchantId, t.createdAt),
    index('payouts_status_idx').on(t.status),
    check('payouts_amount_positive', sql`${t.amountMinor} > 0`),
  ],
);

export const payoutItems = pgTable(
  'payout_items',
  {
    payoutId: text('payout_id')
      .notNull()
      .references(() => payouts.id),
    sessionId: text('session_id').notNull(),
    capturedMinor: bigint('captured_minor', { mode: 'bigint' }).notNull(),
    feeMinor: bigint('fee_minor', { mode: 'bigint' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.payoutId, t.sessionId] }), index('payout_items_session_idx').on(t.sessionId)],
);

export type PayoutRow = typeof payouts.$inferSelect;
export type PayoutItemRow = typeof payoutItems.$inferSelect;
