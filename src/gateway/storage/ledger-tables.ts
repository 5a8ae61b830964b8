// The gateway's double-entry ledger (domain/ledger.account.ts, domain/ledger.transfer.ts): accounts
// and immutable transfers. Amounts are bigint minor units of the row's currency.
//
// Balances are stored on the account rows, updated in the transaction of the transfer that moves
// them, under the rows' locks (storage/ledger.ts takes them in id order): reading a balance is one
// row, not a sum over every transfer ever made, and an account's "never negative" flag is checked on
// the total it guards, by the code and again by a CHECK constraint here. `ledger verify` recomputes
// every balance from the transfers and lists any account whose stored totals differ.
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  index,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { AccountKind } from '../domain/ledger.account.ts';
import type { TransferKind, TransferPhase } from '../domain/ledger.transfer.ts';
import { merchants } from './tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });
const total = (name: string) => bigint(name, { mode: 'bigint' }).notNull().default(sql`0`);

export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    // acct_<merchant>_<currency>_<kind>: derived, so a transfer names its accounts without a lookup.
    id: text('id').primaryKey(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    currency: text('currency').notNull(),
    kind: text('kind').$type<AccountKind>().notNull(),
    debitsMustNotExceedCredits: boolean('debits_must_not_exceed_credits').notNull(),
    creditsMustNotExceedDebits: boolean('credits_must_not_exceed_debits').notNull(),
    debitsPending: total('debits_pending'),
    debitsPosted: total('debits_posted'),
    creditsPending: total('credits_pending'),
    creditsPosted: total('credits_posted'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_accounts_merchant_currency_kind').on(t.merchantId, t.currency, t.kind),
    check(
      'ledger_accounts_totals_not_negative',
      sql`${t.debitsPending} >= 0 and ${t.debitsPosted} >= 0 and ${t.creditsPending} >= 0 and ${t.creditsPosted} >= 0`,
    ),
    check(
      'ledger_accounts_debits_limit',
      sql`not ${t.debitsMustNotExceedCredits} or ${t.debitsPending} + ${t.debitsPosted} <= ${t.creditsPosted}`,
    ),
    check(
      'ledger_accounts_credits_limit',
      sql`not ${t.creditsMustNotExceedDebits} or ${t.creditsPending} + ${t.creditsPosted} <= ${t.debitsPosted}`,
    ),
  ],
);

export const ledgerTransfers = pgTable(
  'ledger_transfers',
  {
    // Derived from what it records (auth_<session>, post_<session>, refund_<refund>…): the id is the idempotency key.
    id: text('id').primaryKey(),
    debitAccountId: text('debit_account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    creditAccountId: text('credit_account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    kind: text('kind').$type<TransferKind>().notNull(),
    phase: text('phase').$type<TransferPhase>().notNull(),
    // The pending transfer a post or void resolves: unique, so it is resolved once, whoever races.
    pendingId: text('pending_id').references((): AnyPgColumn => ledgerTransfers.id),
    sessionId: text('session_id'),
    refundId: text('refund_id'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_transfers_resolved_once').on(t.pendingId).where(sql`${t.pendingId} is not null`),
    index('ledger_transfers_session_idx').on(t.sessionId),
    check('ledger_transfers_amount_positive', sql`${t.amountMinor} > 0`),
    check('ledger_transfers_two_accounts', sql`${t.debitAccountId} <> ${t.creditAccountId}`),
    check(
      'ledger_transfers_pending_id_iff_resolving',
      sql`(${t.phase} in ('post', 'void')) = (${t.pendingId} is not null)`,
    ),
  ],
);

export type LedgerAccountRow = typeof ledgerAccounts.$inferSelect;
export type LedgerTransferRow = typeof ledgerTransfers.$inferSelect;
