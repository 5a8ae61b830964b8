// The bank's double-entry ledger (domain/ledger.ts): accounts with stored running totals, moved only
// by immutable transfers written in the transaction of the bank step they record, with the columns and
// constraints every ledger shares (src/platform/ledger/tables.ts) and the bank's own: an account's
// kind, owner and whether it may go negative (a CHECK refuses it, whatever the code does); what a
// transfer refers to.
import { type AnyPgColumn, boolean, check, index, pgTable, text } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import {
  accountColumns,
  accountConstraints,
  transferColumns,
  transferConstraints,
} from '../../platform/ledger/tables.ts';
import type { BankAccountKind, BankTransferKind } from '../domain/ledger.ts';

export const bankLedgerAccounts = pgTable(
  'bank_ledger_accounts',
  {
    // <kind>:<owner>:<currency>
    ...accountColumns(),
    kind: text('kind').$type<BankAccountKind>().notNull(),
    owner: text('owner').notNull(),
    neverNegative: boolean('never_negative').notNull(),
  },
  (t) => [
    ...accountConstraints('bank_ledger_accounts', t),
    check(
      'bank_ledger_accounts_never_negative',
      sql`not ${t.neverNegative} or ${t.debitsPending} + ${t.debitsPosted} <= ${t.creditsPosted}`,
    ),
  ],
);

export const bankLedgerTransfers = pgTable(
  'bank_ledger_transfers',
  {
    ...transferColumns<BankTransferKind>(
      () => bankLedgerAccounts,
      (): { id: AnyPgColumn } => bankLedgerTransfers,
    ),
    // The authorisation, refund, payout or account it records.
    ref: text('ref'),
  },
  (t) => [...transferConstraints('bank_ledger_transfers', t), index('bank_ledger_transfers_ref_idx').on(t.ref)],
);

export type BankLedgerAccountRow = typeof bankLedgerAccounts.$inferSelect;
export type BankLedgerTransferRow = typeof bankLedgerTransfers.$inferSelect;
