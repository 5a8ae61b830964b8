// Writing the gateway's ledger: a batch of transfers inside the caller's transaction, the transaction
// of the payment step it records, by the shared recorder (src/platform/ledger/record.ts: accounts
// created if new and locked in id order, each transfer decided by the rules, totals moved with it).
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { recordTransfers, type LedgerBook, type RecordOptions } from '../../platform/ledger/record.ts';
import { ACCOUNT_FLAGS, parseAccountId } from '../domain/ledger.account.ts';
import type { Transfer } from '../domain/ledger.transfer.ts';
import { ledgerAccounts, ledgerTransfers, type LedgerAccountRow, type LedgerTransferRow } from './ledger-tables.ts';

const BOOK: LedgerBook<Transfer> = {
  accounts: 'ledger_accounts',
  transfers: 'ledger_transfers',
  references: { sessionId: 'session_id', refundId: 'refund_id' },
  flagsOf: (id) => ACCOUNT_FLAGS[parseAccountId(id).kind],
  newAccount: (id) => {
    const { merchantId, currency, kind } = parseAccountId(id);
    const flags = ACCOUNT_FLAGS[kind];
    return {
      currency,
      columns: {
        merchant_id: merchantId,
        kind,
        debits_must_not_exceed_credits: flags.debitsMustNotExceedCredits,
        credits_must_not_exceed_debits: flags.creditsMustNotExceedDebits,
      },
    };
  },
};

/**
 * Records transfers, in order, in the caller's transaction: those already recorded with the same
 * fields are skipped; a conflicting one, an unbalanced one, or one that would break an account's
 * flag throws a DomainError (and the caller's whole transaction rolls back). Returns the ids written.
 */
export function postTransfers(
  tx: Executor,
  batch: readonly Transfer[],
  now: Date,
  options?: RecordOptions,
): Promise<string[]> {
  return recordTransfers(BOOK, tx, batch, now, options);
}

/** A merchant's accounts, every currency (the balance answer and the dashboard's card). */
export function merchantLedgerAccounts(db: Executor, merchantId: string): Promise<LedgerAccountRow[]> {
  return db
    .select()
    .from(ledgerAccounts)
    .where(eq(ledgerAccounts.merchantId, merchantId))
    .orderBy(ledgerAccounts.currency, ledgerAccounts.kind);
}

/** The transfers recorded for a session (tests and the operator's checks). */
export function sessionTransfers(db: Executor, sessionId: string): Promise<LedgerTransferRow[]> {
  return db
    .select()
    .from(ledgerTransfers)
    .where(eq(ledgerTransfers.sessionId, sessionId))
    .orderBy(ledgerTransfers.createdAt, sql`${ledgerTransfers.id}`);
}
