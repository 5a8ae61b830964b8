// Writing the bank's ledger: `recordBankTransfers` records a batch of transfers inside the caller's
// transaction (the transaction of the bank step they record) by the shared recorder
// (src/platform/ledger/record.ts: accounts created if new and locked in id order, each transfer
// decided by the rules, totals moved with it). Any refusal throws a DomainError and the caller's whole
// transaction rolls back.
import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { recordTransfers, type LedgerBook, type RecordOptions } from '../../platform/ledger/record.ts';
import { bankAccountFlags, neverNegative, parseBankAccountId, type BankTransfer } from '../domain/ledger.ts';
import { bankLedgerAccounts } from './ledger-tables.ts';

const BOOK: LedgerBook<BankTransfer> = {
  accounts: 'bank_ledger_accounts',
  transfers: 'bank_ledger_transfers',
  references: { ref: 'ref' },
  flagsOf: bankAccountFlags,
  newAccount: (id) => {
    const { kind, owner, currency } = parseBankAccountId(id);
    return { currency, columns: { kind, owner, never_negative: neverNegative(kind) } };
  },
};

/**
 * Records transfers, in order, in the caller's transaction; those already recorded with the same fields
 * are skipped. Returns the ids written. The function other bank commands (a chargeback too) call.
 */
export function recordBankTransfers(
  tx: Executor,
  batch: readonly BankTransfer[],
  now: Date,
  options?: RecordOptions,
): Promise<string[]> {
  return recordTransfers(BOOK, tx, batch, now, options);
}

/** One account's totals (tests and the app), or undefined before its first transfer. */
export async function bankLedgerAccount(db: Executor, id: string) {
  const [row] = await db.select().from(bankLedgerAccounts).where(sql`${bankLedgerAccounts.id} = ${id}`);
  return row;
}
