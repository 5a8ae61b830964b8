// The gateway's double-entry ledger (domain/ledger.account.ts, domain/ledger.transfer.ts): accounts
// and immutable transfers, with the columns and constraints every ledger shares
// (src/platform/ledger/tables.ts) and the gateway's own: an account's merchant, kind and flags; a
// transfer's session and refund. Amounts are bigint minor units of the row's currency. An account's
// "never negative" flag is checked on the total it guards, by the code and again by a CHECK here.
import { type AnyPgColumn, boolean, check, index, pgTable, text } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import {
  accountColumns,
  accountConstraints,
  transferColumns,
  transferConstraints,
} from '../../platform/ledger/tables.ts';
import type { AccountKind } from '../domain/ledger.account.ts';
import type { TransferKind } from '../domain/ledger.transfer.ts';
import { merchants } from './tables.ts';

export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    // acct_<merchant>_<currency>_<kind>
    ...accountColumns(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    kind: text('kind').$type<AccountKind>().notNull(),
    debitsMustNotExceedCredits: boolean('debits_must_not_exceed_credits').notNull(),
    creditsMustNotExceedDebits: boolean('credits_must_not_exceed_debits').notNull(),
  },
  (t) => [
    // One account per merchant, currency and kind: the id is made of the three (CHECK below), so the
    // primary key holds it. A second unique index did too, but INSERT ... ON CONFLICT (id) arbitrates
    // on the primary key alone: two transactions opening the same new accounts at once both passed
    // its check, and the second failed on this index with a unique violation (seen in npm test).
    index('ledger_accounts_merchant_currency_kind').on(t.merchantId, t.currency, t.kind),
    check(
      'ledger_accounts_id_of_merchant_currency_kind',
      sql`${t.id} = 'acct_' || ${t.merchantId} || '_' || ${t.currency} || '_' || ${t.kind}`,
    ),
    ...accountConstraints('ledger_accounts', t),
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
    ...transferColumns<TransferKind>(
      () => ledgerAccounts,
      (): { id: AnyPgColumn } => ledgerTransfers,
    ),
    sessionId: text('session_id'),
    refundId: text('refund_id'),
  },
  (t) => [...transferConstraints('ledger_transfers', t), index('ledger_transfers_session_idx').on(t.sessionId)],
);

export type LedgerAccountRow = typeof ledgerAccounts.$inferSelect;
export type LedgerTransferRow = typeof ledgerTransfers.$inferSelect;
