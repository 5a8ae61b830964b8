// Everything `countersign ledger verify` checks, over the databases it was given: the gateway's books
// (always), the bank's books (when the bank's database is given), and the match of the money across
// the parties — gateway ⇔ bank with the bank, shop ⇔ gateway with the shop, the three-way match with
// both (src/core/three-way-match.ts). Read-only. The proof suites call it with the same databases.
import type { Executor } from '../platform/db/database.ts';
import { matchGatewayBank, matchShopGateway } from '../core/three-way-match.ts';
import { bankCaptures, verifyBankLedger } from '../bank/storage/ledger-verify.ts';
import { gatewayCaptures, verifyLedger } from '../gateway/storage/ledger-verify.ts';
import { attemptSessions, paidInvoices } from '../shop/storage/paid-invoices.ts';

export interface BooksFinding {
  /** Whose books (gateway, bank) or which match (match). */
  readonly party: 'gateway' | 'bank' | 'match';
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

export interface BooksReport {
  readonly accounts: number;
  readonly transfers: number;
  readonly sessions: number;
  readonly bank: { readonly accounts: number; readonly transfers: number } | null;
  readonly matched: {
    readonly shopPaid: number | null;
    readonly gatewayCaptures: number;
    readonly bankCaptures: number | null;
  };
  readonly findings: BooksFinding[];
}

/** Verifies the gateway's books, the bank's when given, and the match across the parties given. */
export async function verifyBooks(dbs: {
  gateway: Executor;
  bank?: Executor | null;
  shop?: Executor | null;
}): Promise<BooksReport> {
  const gateway = await verifyLedger(dbs.gateway);
  const findings: BooksFinding[] = gateway.findings.map((f) => ({ party: 'gateway', ...f }));
  const captures = await gatewayCaptures(dbs.gateway);
  let bank: BooksReport['bank'] = null;
  let bankCaptured: number | null = null;
  if (dbs.bank) {
    const books = await verifyBankLedger(dbs.bank);
    bank = { accounts: books.accounts, transfers: books.transfers };
    findings.push(...books.findings.map((f) => ({ party: 'bank' as const, ...f })));
    const debits = await bankCaptures(dbs.bank);
    bankCaptured = debits.length;
    findings.push(...matchGatewayBank(captures, debits).map((f) => ({ party: 'match' as const, ...f })));
  }
  let shopPaid: number | null = null;
  if (dbs.shop) {
    const paid = await paidInvoices(dbs.shop);
    shopPaid = paid.length;
    findings.push(
      ...matchShopGateway(paid, captures, await attemptSessions(dbs.shop)).map((f) => ({
        party: 'match' as const,
        ...f,
      })),
    );
  }
  return {
    accounts: gateway.accounts,
    transfers: gateway.transfers,
    sessions: gateway.sessions,
    bank,
    matched: { shopPaid, gatewayCaptures: captures.length, bankCaptures: bankCaptured },
    findings,
  };
}
