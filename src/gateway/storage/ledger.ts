// Writing the ledger: a batch of transfers inside the caller's transaction, the transaction of the
// payment step it records. The accounts named are created if new and locked in id order (so two
// transactions never wait on each other in a cycle), each transfer is decided by the domain (no-op
// when the same id exists with the same fields), and the account totals move with it. Two racing
// resolutions of one pending transfer serialise on the accounts' locks; the second sees the first's
// post or void and is refused — and the unique index on pending_id refuses it regardless.
import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { ACCOUNT_FLAGS, applyDelta, parseAccountId, type Balances } from '../domain/ledger.account.ts';
import { decideTransfer, transferDeltas, type Transfer } from '../domain/ledger.transfer.ts';
import { ledgerAccounts, ledgerTransfers, type LedgerAccountRow, type LedgerTransferRow } from './ledger-tables.ts';

/** Creates the accounts named (if new) and locks them, in id order; returns them by id. */
async function lockAccounts(tx: Executor, ids: string[], now: Date): Promise<Map<string, LedgerAccountRow>> {
  const sorted = [...new Set(ids)].sort();
  await tx
    .insert(ledgerAccounts)
    .values(
      sorted.map((id) => {
        const { merchantId, currency, kind } = parseAccountId(id);
        return { id, merchantId, currency, kind, ...ACCOUNT_FLAGS[kind], createdAt: now };
      }),
    )
    .onConflictDoNothing();
  const rows = await tx
    .select()
    .from(ledgerAccounts)
    .where(inArray(ledgerAccounts.id, sorted))
    .orderBy(ledgerAccounts.id)
    .for('update');
  return new Map(rows.map((r) => [r.id, r]));
}

function fromRow(r: LedgerTransferRow): Transfer {
  return {
    id: r.id,
    debitAccountId: r.debitAccountId,
    creditAccountId: r.creditAccountId,
    amount: r.amountMinor,
    currency: r.currency,
    kind: r.kind,
    phase: r.phase,
    pendingId: r.pendingId,
    sessionId: r.sessionId,
    refundId: r.refundId,
  };
}

/** The stored transfers the batch names (its ids and the pending ids it resolves) and what resolved those pendings. */
async function knownTransfers(tx: Executor, batch: readonly Transfer[]) {
  const ids = batch.map((t) => t.id);
  const pendingIds = batch.flatMap((t) => (t.pendingId ? [t.pendingId] : []));
  const rows = await tx
    .select()
    .from(ledgerTransfers)
    .where(
      pendingIds.length
        ? or(
            inArray(ledgerTransfers.id, [...ids, ...pendingIds]),
            and(isNotNull(ledgerTransfers.pendingId), inArray(ledgerTransfers.pendingId, pendingIds)),
          )
        : inArray(ledgerTransfers.id, ids),
    );
  const byId = new Map(rows.map((r) => [r.id, fromRow(r)]));
  const resolvedBy = new Map(rows.flatMap((r) => (r.pendingId ? [[r.pendingId, r.id] as const] : [])));
  return { byId, resolvedBy };
}

const balancesOf = (r: LedgerAccountRow): Balances => ({
  debitsPending: r.debitsPending,
  debitsPosted: r.debitsPosted,
  creditsPending: r.creditsPending,
  creditsPosted: r.creditsPosted,
});

/**
 * Records transfers, in order, in the caller's transaction: those already recorded with the same
 * fields are skipped; a conflicting one, an unbalanced one, or one that would break an account's
 * flag throws a DomainError (and the caller's whole transaction rolls back). Returns the ids written.
 */
export async function postTransfers(tx: Executor, batch: readonly Transfer[], now: Date): Promise<string[]> {
  if (batch.length === 0) return [];
  const accounts = await lockAccounts(
    tx,
    batch.flatMap((t) => [t.debitAccountId, t.creditAccountId]),
    now,
  );
  const { byId, resolvedBy } = await knownTransfers(tx, batch);
  const balances = new Map([...accounts.values()].map((a) => [a.id, balancesOf(a)]));
  const written: Transfer[] = [];
  for (const t of batch) {
    const pending = t.pendingId ? byId.get(t.pendingId) : undefined;
    const verdict = decideTransfer(t, {
      existing: byId.get(t.id),
      pending: pending ? { transfer: pending, resolvedBy: resolvedBy.get(pending.id) ?? null } : undefined,
      currencyOf: (id) => accounts.get(id)?.currency,
    });
    if (!verdict.write) continue;
    const delta = transferDeltas(t, pending?.amount ?? 0n);
    for (const [id, d] of [
      [t.debitAccountId, delta.debit],
      [t.creditAccountId, delta.credit],
    ] as const) {
      const a = accounts.get(id)!;
      balances.set(id, applyDelta({ id, flags: ACCOUNT_FLAGS[a.kind] }, balances.get(id)!, d));
    }
    byId.set(t.id, t);
    if (t.pendingId) resolvedBy.set(t.pendingId, t.id);
    written.push(t);
  }
  if (written.length === 0) return [];
  await tx.insert(ledgerTransfers).values(
    written.map((t) => ({
      id: t.id,
      debitAccountId: t.debitAccountId,
      creditAccountId: t.creditAccountId,
      amountMinor: t.amount,
      currency: t.currency,
      kind: t.kind,
      phase: t.phase,
      pendingId: t.pendingId,
      sessionId: t.sessionId,
      refundId: t.refundId,
      createdAt: now,
    })),
  );
  // The new totals of every account touched, in one statement (a capture touches four).
  const touched = [...new Set(written.flatMap((t) => [t.debitAccountId, t.creditAccountId]))].sort();
  const values = touched.map((id) => {
    const b = balances.get(id)!;
    return sql`(${id}, ${b.debitsPending}::bigint, ${b.debitsPosted}::bigint, ${b.creditsPending}::bigint, ${b.creditsPosted}::bigint)`;
  });
  await tx.execute(sql`
    update ledger_accounts as a
       set debits_pending = v.dpend, debits_posted = v.dpost, credits_pending = v.cpend, credits_posted = v.cpost
      from (values ${sql.join(values, sql`, `)}) as v(id, dpend, dpost, cpend, cpost)
     where a.id = v.id`);
  return written.map((t) => t.id);
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
