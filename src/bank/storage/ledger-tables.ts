// The bank's double-entry ledger (domain/ledger.ts): accounts with stored running totals, moved only
// by immutable transfers written in the transaction of the bank step they record. A CHECK refuses a
// never-negative account going negative, whatever the code does.
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
import type { BankAccountKind, BankTransferKind, BankTransferPhase } from '../domain/ledger.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });
const total = (name: string) => bigint(name, { mode: 'bigint' }).notNull().default(sql`0`);

export const bankLedgerAccounts = pgTable(
  'bank_ledger_accounts',
  {
    // <kind>:<owner>:<currency>
    id: text('id').primaryKey(),
    kind: text('kind').$type<BankAccountKind>().notNull(),
    owner: text('owner').notNull(),
    currency: text('currency').notNull(),
    neverNegative: boolean('never_negative').notNull(),
    debitsPending: total('debits_pending'),
    debitsPosted: total('debits_posted'),
    creditsPending: total('credits_pending'),
    creditsPosted: total('credits_posted'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    check(
      'bank_ledger_accounts_totals_not_negative',
      sql`${t.debitsPending} >= 0 and ${t.debitsPosted} >= 0 and ${t.creditsPending} >= 0 and ${t.creditsPosted} >= 0`,
    ),
    check(
      'bank_ledger_accounts_never_negative',
      sql`not ${t.neverNegative} or ${t.debitsPending} + ${t.debitsPosted} <= ${t.creditsPosted}`,
    ),
  ],
);

export const bankLedgerTransfers = pgTable(
  'bank_ledger_transfers',
  {
    id: text('id').primaryKey(),
    debitAccountId: text('debit_account_id')
      .notNull()
      .references(() => bankLedgerAccounts.id),
    creditAccountId: text('credit_account_id')
      .notNull()
      .references(() => bankLedgerAccounts.id),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    kind: text('kind').$type<BankTransferKind>().notNull(),
    phase: text('phase').$type<BankTransferPhase>().notNull(),
    pendingId: text('pending_id').references((): AnyPgColumn => bankLedgerTransfers.id),
    // The authorisation, refund, payout or account it records.
    ref: text('ref'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('bank_ledger_transfers_resolved_once').on(t.pendingId).where(sql`${t.pendingId} is not null`),
    index('bank_ledger_transfers_ref_idx').on(t.ref),
    check('bank_ledger_transfers_amount_positive', sql`${t.amountMinor} > 0`),
    check('bank_ledger_transfers_two_accounts', sql`${t.debitAccountId} <> ${t.creditAccountId}`),
    check(
      'bank_ledger_transfers_pending_id_iff_resolving',
      sql`(${t.phase} in ('post', 'void')) = (${t.pendingId} is not null)`,
    ),
  ],
);

export type BankLedgerAccountRow = typeof bankLedgerAccounts.$inferSelect;
export type BankLedgerTransferRow = typeof bankLedgerTransfers.$inferSelect;
