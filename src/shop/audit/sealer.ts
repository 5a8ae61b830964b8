// The audit chain's sealer: business transactions insert their audit entries unsealed, without any
// lock; the sealer chains the committed ones shortly after, as a transparency log merges its entries.
// One seal is two statements and no transaction. The first reads the chain's end (audit_chain_tip)
// and the unsealed entries visible now, in seq order. The sealer gives them the next positions and
// their hashes. The second writes them, in one statement that
//   - locks the tip's row only while it is still the end that was read (FOR UPDATE: a sealer that
//     committed meanwhile moved it, and then nothing is written: the race is lost, read again);
//   - updates the entries (only while still unsealed) and moves the tip to the last of them;
//   - fails whole if any entry of the batch was not updated (the tip would be set to null).
// So two sealers never extend the chain from the same end, every node may run one, and a sealer that
// dies writes its batch whole or not at all. The chain's order is this SEAL order: an entry whose
// transaction committed after a later seq's simply gets a later position.
import { asc, isNull, sql } from 'drizzle-orm';
import { crashPoint } from '../../platform/crash-points.ts';
import { builtOnce } from '../../platform/db/built-once.ts';
import { rows, type Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { CHAIN_VERSION, onAuditAppend, sealedHash } from '../storage/audit.ts';
import { auditChainTip, auditLog } from '../storage/tables.ts';

/** Entries sealed per statement at most. */
export const SEAL_BATCH = 500;

/** How many times a seal reads again after another sealer extended the chain first. */
const LOST_RACES = 5;

/**
 * Seals one batch of committed unsealed entries; resolves with how many it sealed (0: none waiting).
 * Another sealer extending the chain first costs a read and a write that changes nothing, then again.
 */
export async function sealAuditBatch(database: Database, limit = SEAL_BATCH): Promise<number> {
  for (let race = 0; ; race++) {
    const plan = await planSeal(database, limit);
    if (!plan) return 0;
    const sealed = await writeSeal(database, plan);
    if (sealed !== 'lost') return sealed;
    if (race === LOST_RACES) return 0; // still waiting: the next pass (or the sealer that won) takes them
  }
}

/** A batch given its positions and hashes, chained from the end `from` that was read with it. */
export interface SealPlan {
  readonly from: { readonly pos: number; readonly hash: string };
  readonly entries: ReadonlyArray<{ seq: number; pos: number; prevHash: string; hash: string }>;
}

// Read after every audited commit: built once (builtOnce), the batch's size its one value.
const unsealed = builtOnce((on) =>
  on
    .select({
      entry: auditLog,
      tip: sql<string>`(select ${auditChainTip.pos} || ' ' || ${auditChainTip.hash} from ${auditChainTip})`,
    })
    .from(auditLog)
    .where(isNull(auditLog.hash))
    .orderBy(asc(auditLog.seq))
    .limit(sql.placeholder('limit'))
    .prepare('unsealed_audit_entries'),
);

/** Reads the chain's end and up to `limit` unsealed entries (one statement), and chains them; null: none waiting. */
export async function planSeal(database: Database, limit = SEAL_BATCH): Promise<SealPlan | null> {
  const batch = await unsealed(database.db).execute({ limit });
  if (batch.length === 0) return null;
  const [pos, hash] = batch[0]!.tip.split(' ') as [string, string];
  const from = { pos: Number(pos), hash };
  let prev = from;
  const entries = batch.map(({ entry: e }) => {
    const at = prev.pos + 1;
    const row = { seq: e.seq, pos: at, prevHash: prev.hash, hash: sealedHash(prev.hash, at, e) };
    prev = { pos: at, hash: row.hash };
    return row;
  });
  return { from, entries };
}

/**
 * Writes a plan in one statement: its entries sealed and the chain's end moved to the last of them,
 * only while the end is still the one the plan was read with ('lost' otherwise, nothing written).
 * Throws, writing nothing, if an entry of the plan was sealed meanwhile although the end did not move.
 */
export async function writeSeal(database: Database, plan: SealPlan): Promise<number | 'lost'> {
  const { from, entries } = plan;
  const last = entries[entries.length - 1]!;
  // The batch as four arrays, not a VALUES list: one statement text whatever the batch's size, so
  // PostgreSQL prepares it once per connection instead of once per size (auto-prepare.ts keeps 300).
  const column = <T>(pick: (r: SealPlan['entries'][number]) => T) => sql.param(entries.map(pick));
  crashPoint('shop.audit.before_seal_commit');
  const [written] = await rows<{ sealed: number }>(
    database.db,
    sql`with tip as (
          select 1 from ${auditChainTip} where pos = ${from.pos} and hash = ${from.hash} for update
        ),
        sealed as (
          update audit_log set chain_pos = v.pos, chain_version = ${CHAIN_VERSION}, prev_hash = v.prev, hash = v.hash
            from unnest(${column((r) => r.seq)}::bigint[], ${column((r) => r.pos)}::bigint[],
                        ${column((r) => r.prevHash)}::text[], ${column((r) => r.hash)}::text[]) as v(seq, pos, prev, hash),
                 tip
           where audit_log.seq = v.seq and audit_log.hash is null
          returning audit_log.seq
        ),
        moved as (
          update ${auditChainTip}
             set pos = case when (select count(*) from sealed) = ${entries.length} then ${last.pos}::bigint end,
                 hash = ${last.hash}
           where exists (select 1 from tip)
          returning pos
        )
        select (select count(*) from sealed)::int as sealed`,
  );
  return Number(written?.sealed) === entries.length ? entries.length : 'lost';
}

/** Seals until no committed entry is left unsealed (a batch at a time); resolves with how many it sealed. */
export async function sealAll(database: Database, limit = SEAL_BATCH): Promise<number> {
  let total = 0;
  for (let n = await sealAuditBatch(database, limit); n > 0; n = await sealAuditBatch(database, limit)) total += n;
  return total;
}

/** The sealer as a node runs it: started with the shop, stopped (after a last pass) at its shutdown. */
export interface AuditSealer {
  start(): void;
  /** Stops the loop after the pass under way, then seals what is left once. */
  stop(): Promise<void>;
}

/**
 * A loop that looks for unsealed entries and seals them (at once again while batches come back full):
 * within `intervalMs` after entries inserted by this process were committed (one pass for all that
 * commit meanwhile), and every `idleIntervalMs` otherwise (entries of another node, or of a savepoint,
 * announced before their commit), so an idle shop does not query 20 times a second and a shop at work
 * reads only when there is news. Errors are logged and retried at the next tick: the entries stay
 * unsealed, never lost, and `countersign audit verify` reports them once they wait longer than its
 * threshold.
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
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let waitingIdle = false;
  let ticking = false;
  /** Entries committed here since the pass under way (or the last one) began. */
  let news = false;
  let pass: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;

  async function tick(): Promise<void> {
    try {
      // The seal's first read is the check: with nothing waiting it is the one statement of the pass.
      for (let n = batch; n === batch && running; ) n = await sealAuditBatch(deps.database, batch);
    } catch (err) {
      deps.log.error({ err }, 'audit sealer: sealing failed; the entries stay unsealed and are retried');
    }
  }

  function arm(ms: number): void {
    waitingIdle = ms === idleMs && ms !== deps.intervalMs;
    timer = setTimeout(() => {
      ticking = true;
      news = false;
      pass = tick().finally(schedule);
    }, ms);
    timer.unref();
  }

  function schedule(): void {
    ticking = false;
    if (running) arm(news ? deps.intervalMs : idleMs);
  }

  /** Entries committed here: a pass within the short interval (sooner than the idle one it waits). */
  function nudge(): void {
    news = true;
    if (!running || !waitingIdle || ticking) return;
    clearTimeout(timer);
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
