// Writing the bank's ledger: `recordBankTransfers` records a batch of transfers inside the caller's
// transaction (the transaction of the bank step they record). The accounts named are created if new
// and locked in id order (no lock cycles); each transfer is decided by the domain (a no-op when the
// same id exists with the same fields); the account totals move with it. Any refusal throws a
// DomainError and the caller's whole transaction rolls back.
import { and, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import {
  applyBankDelta,
  bankTransferDeltas,
  decideBankTransfer,
  neverNegative,
  parseBankAccountId,
  type BankTransfer,
  type Totals,
} from '../domain/ledger.ts';
import { bankLedgerAccounts, bankLedgerTransfers, type BankLedgerTransferRow } from './ledger-tables.ts';

const fromRow = (r: BankLedgerTransferRow): BankTransfer => ({
  id: r.id,
  debitAccountId: r.debitAccountId,
  creditAccountId: r.creditAccountId,
  amount: r.amountMinor,
  currency: r.currency,
  kind: r.kind,
  phase: r.phase,
  pendingId: r.pendingId,
  ref: r.ref,
});

async function lockAccounts(tx: Executor, ids: string[], now: Date) {
  const sorted = [...new Set(ids)].sort();
  await tx
    .insert(bankLedgerAccounts)
    .values(
      sorted.map((id) => {
        const { kind, owner, currency } = parseBankAccountId(id);
        return { id, kind, owner, currency, neverNegative: neverNegative(kind), createdAt: now };
      }),
    )
    .onConflictDoNothing();
  const found = await tx
    .select()
    .from(bankLedgerAccounts)
    .where(inArray(bankLedgerAccounts.id, sorted))
    .orderBy(bankLedgerAccounts.id)
    .for('update');
  return new Map(found.map((r) => [r.id, r]));
}

async function knownTransfers(tx: Executor, batch: readonly BankTransfer[]) {
  const ids = batch.map((t) => t.id);
  const pendingIds = batch.flatMap((t) => (t.pendingId ? [t.pendingId] : []));
  const found = await tx
    .select()
    .from(bankLedgerTransfers)
    .where(
      pendingIds.length
        ? or(
            inArray(bankLedgerTransfers.id, [...ids, ...pendingIds]),
            and(isNotNull(bankLedgerTransfers.pendingId), inArray(bankLedgerTransfers.pendingId, pendingIds)),
          )
        : inArray(bankLedgerTransfers.id, ids),
    );
  return {
    byId: new Map(found.map((r) => [r.id, fromRow(r)])),
    resolvedBy: new Map(found.flatMap((r) => (r.pendingId ? [[r.pendingId, r.id] as const] : []))),
  };
}

/**
 * Records transfers, in order, in the caller's transaction; those already recorded with the same fields
 * are skipped. Returns the ids written. The function other bank commands (a chargeback too) call.
 */
export async function recordBankTransfers(tx: Executor, batch: readonly BankTransfer[], now: Date): Promise<string[]> {
  if (batch.length === 0) return [];
  const accounts = await lockAccounts(
    tx,
    batch.flatMap((t) => [t.debitAccountId, t.creditAccountId]),
    now,
  );
  const { byId, resolvedBy } = await knownTransfers(tx, batch);
  const totals = new Map<string, Totals>([...accounts.values()].map((a) => [a.id, a]));
  const written: BankTransfer[] = [];
  for (const t of batch) {
    const pending = t.pendingId ? byId.get(t.pendingId) : undefined;
    const write = decideBankTransfer(t, {
      existing: byId.get(t.id),
      pending: pending ? { transfer: pending, resolvedBy: resolvedBy.get(pending.id) ?? null } : undefined,
    });
    if (!write) continue;
    const delta = bankTransferDeltas(t, pending?.amount ?? 0n);
    for (const [id, d] of [
      [t.debitAccountId, delta.debit],
      [t.creditAccountId, delta.credit],
    ] as const) {
      totals.set(id, applyBankDelta({ id, kind: accounts.get(id)!.kind }, totals.get(id)!, d));
    }
    byId.set(t.id, t);
    if (t.pendingId) resolvedBy.set(t.pendingId, t.id);
    written.push(t);
  }
  if (written.length === 0) return [];
  await tx.insert(bankLedgerTransfers).values(
    written.map((t) => ({
      id: t.id,
      debitAccountId: t.debitAccountId,
      creditAccountId: t.creditAccountId,
      amountMinor: t.amount,
      currency: t.currency,
      kind: t.kind,
      phase: t.phase,
      pendingId: t.pendingId,
      ref: t.ref,
      createdAt: now,
    })),
  );
  const touched = [...new Set(written.flatMap((t) => [t.debitAccountId, t.creditAccountId]))].sort();
  const values = touched.map((id) => {
    const b = totals.get(id)!;
    return sql`(${id}, ${b.debitsPending}::bigint, ${b.debitsPosted}::bigint, ${b.creditsPending}::bigint, ${b.creditsPosted}::bigint)`;
  });
  await tx.execute(sql`
    update bank_ledger_accounts as a
       set debits_pending = v.dpend, debits_posted = v.dpost, credits_pending = v.cpend, credits_posted = v.cpost
      from (values ${sql.join(values, sql`, `)}) as v(id, dpend, dpost, cpend, cpost)
     where a.id = v.id`);
  return written.map((t) => t.id);
}

/** One account's totals (tests and the app), or undefined before its first transfer. */
export async function bankLedgerAccount(db: Executor, id: string) {
  const [row] = await db.select().from(bankLedgerAccounts).where(sql`${bankLedgerAccounts.id} = ${id}`);
  return row;
}
