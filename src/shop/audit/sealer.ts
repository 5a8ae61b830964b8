// The audit chain's sealer: business transactions insert their audit entries unsealed, without any
// lock; the sealer chains the committed ones shortly after, as a transparency log merges its entries.
// One sealing transaction: take the chain's lock (transaction-scoped, so a sealer that dies releases
// it and every node may run a sealer safely), read the tip, take the unsealed entries visible now in
// seq order, give them the next positions and their hashes, update them (only while still unsealed),
// commit. The chain's order is this SEAL order: an entry whose transaction committed after a later
// seq's simply gets a later position. A sealer killed mid-batch rolls back; the next run seals again.
import { asc, isNull, sql } from 'drizzle-orm';
import { crashPoint } from '../../platform/crash-points.ts';
import { rows, type Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { CHAIN_VERSION, GENESIS, onAuditAppend, sealedHash } from '../storage/audit.ts';
import { auditLog } from '../storage/tables.ts';

/** Entries sealed per transaction at most. */
export const SEAL_BATCH = 500;

/** Seals one batch of committed unsealed entries; resolves with how many it sealed (0: none waiting). */
export async function sealAuditBatch(database: Database, limit = SEAL_BATCH): Promise<number> {
  return database.transaction(async (tx) => {
    // The lock first, in its own statement: the read next must see every seal committed before it.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('countersign:shop:audit'))`);
    // The batch and, in the same statement (evaluated once), the chain's tip as "<position> <hash>".
    const batch = await tx
      .select({
        entry: auditLog,
        tip: sql<string | null>`(select chain_pos || ' ' || hash from audit_log
          where chain_pos is not null order by chain_pos desc limit 1)`,
      })
      .from(auditLog)
      .where(isNull(auditLog.hash))
      .orderBy(asc(auditLog.seq))
      .limit(limit);
    if (batch.length === 0) return 0;
    const tip = batch[0]!.tip?.split(' ');
    let prev = { pos: tip ? Number(tip[0]) : 0, hash: tip?.[1] ?? GENESIS };
    const sealed = batch.map(({ entry: e }) => {
      const pos = prev.pos + 1;
      const row = { seq: e.seq, pos, prevHash: prev.hash, hash: sealedHash(prev.hash, pos, e) };
      prev = { pos, hash: row.hash };
      return row;
    });
    const values = sql.join(
      sealed.map((r) => sql`(${r.seq}::bigint, ${r.pos}::bigint, ${r.prevHash}::text, ${r.hash}::text)`),
      sql`, `,
    );
    const updated = await rows<{ seq: string }>(
      tx,
      sql`update audit_log set chain_pos = v.pos, chain_version = ${CHAIN_VERSION}, prev_hash = v.prev, hash = v.hash
          from (values ${values}) as v(seq, pos, prev, hash)
          where audit_log.seq = v.seq and audit_log.hash is null
          returning audit_log.seq`,
    );
    // Under the lock nobody else seals, so this holds; if it ever did not, nothing is committed.
    if (updated.length !== sealed.length)
      throw new Error(`audit sealer: ${sealed.length - updated.length} entries of the batch were sealed meanwhile`);
    crashPoint('shop.audit.before_seal_commit');
    return sealed.length;
  });
}

/** Seals until no committed entry is left unsealed (a batch at a time); resolves with how many it sealed. */
export async function sealAll(database: Database, limit = SEAL_BATCH): Promise<number> {
  let total = 0;
  for (let n = await sealAuditBatch(database, limit); n > 0; n = await sealAuditBatch(database, limit)) total += n;
  return total;
}

/** Whether any committed entry waits to be sealed (a cheap read on the partial index, no lock). */
async function anyUnsealed(database: Database): Promise<boolean> {
  const [row] = await database.db.select({ seq: auditLog.seq }).from(auditLog).where(isNull(auditLog.hash)).limit(1);
  return row !== undefined;
}

/** The sealer as a node runs it: started with the shop, stopped (after a last pass) at its shutdown. */
export interface AuditSealer {
  start(): void;
  /** Stops the loop after the pass under way, then seals what is left once. */
  stop(): Promise<void>;
}

/**
 * A loop that looks for unsealed entries and seals them (at once again while batches come back full):
 * every `intervalMs` for a while after this process appended or sealed something, every
 * `idleIntervalMs` otherwise (entries appended by another node while this one is idle), so an idle
 * shop does not query 20 times a second. Errors are logged and retried at the next tick: the entries
 * stay unsealed, never lost, and `countersign audit verify` reports them once they wait longer than
 * its threshold.
 */
export function auditSealer(deps: {
  database: Database;
  log: Logger;
  intervalMs: number;
  idleIntervalMs?: number;
  batch?: number;
}): AuditSealer {
  const batch = deps.batch ?? SEAL_BATCH;
  const idleMs = Math.max(deps.intervalMs, deps.idleIntervalMs ?? 1000);
  /** How long after the last append or seal in this process the loop keeps the short interval. */
  const activeForMs = Math.max(2000, deps.intervalMs * 10);
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let waitingIdle = false;
  let ticking = false;
  let activeAt = 0;
  let pass: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;

  async function tick(): Promise<void> {
    try {
      if (await anyUnsealed(deps.database)) {
        activeAt = Date.now();
        for (let n = batch; n === batch && running; ) n = await sealAuditBatch(deps.database, batch);
      }
    } catch (err) {
      deps.log.error({ err }, 'audit sealer: sealing failed; the entries stay unsealed and are retried');
    }
  }

  function arm(ms: number): void {
    timer = setTimeout(() => {
      ticking = true;
      pass = tick().finally(schedule);
    }, ms);
    timer.unref();
  }

  function schedule(): void {
    ticking = false;
    if (!running) return;
    waitingIdle = Date.now() - activeAt > activeForMs;
    arm(waitingIdle ? idleMs : deps.intervalMs);
  }

  /** An append here: back to the short interval, now if the loop waits the idle one. */
  function nudge(): void {
    activeAt = Date.now();
    if (!running || !waitingIdle || ticking) return;
    clearTimeout(timer);
    waitingIdle = false;
    arm(deps.intervalMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribe = onAuditAppend(nudge);
      schedule();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      if (timer) clearTimeout(timer);
      await pass;
      await sealAll(deps.database, batch).catch((err: unknown) =>
        deps.log.error({ err }, 'audit sealer: the last pass at shutdown failed; the next node or start seals them'),
      );
    },
  };
}
