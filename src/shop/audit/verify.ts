// Verifies the shop's audit log: every link of the sealed hash chain, walked by position from the
// first entry, and every signed checkpoint against the chain (the entry at its position still exists
// with that hash, and exactly that many entries lead up to it). A chain whose links hold can still have
// been cut at the end or rewritten from scratch; only a checkpoint kept outside the database shows
// that. Entries committed but not sealed yet are not in the chain: they are counted, and those waiting
// longer than a threshold are reported (the sealer is not running), not as a break.
import type { KeyObject } from 'node:crypto';
import { asc, isNull, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { CHAIN_START, chainBreak, GENESIS, sealedPages, type SealedEntry } from '../storage/audit.ts';
import { auditLog } from '../storage/tables.ts';
import { readCheckpointLines } from './checkpoint-file.ts';
import { checkCheckpointLine, type Checkpoint } from './checkpoint.ts';
import { DEFAULT_SEAL_STALE_SECONDS } from './config.ts';

/** What is wrong, at which position of the chain (0 when the checkpoint file itself is at fault). */
export interface AuditBreak {
  readonly seq: number;
  readonly reason: string;
  readonly entry?: { readonly id: string; readonly at: Date; readonly action: string; readonly subject: string };
}

/** The verdict on the chain: intact with its length and the checkpoint it reached, or the first break. */
export type AuditVerdict =
  | {
      readonly ok: true;
      readonly count: number;
      /** The position of the last sealed entry. */
      readonly tipSeq: number;
      readonly checkpoint: Checkpoint | undefined;
      readonly checkpoints: number;
      /** Entries committed but not sealed yet (not covered by the chain until they are). */
      readonly unsealed: Unsealed;
    }
  | { readonly ok: false; readonly count: number; readonly broken: AuditBreak };

/** The checkpoint file read and its signatures checked: the good checkpoints and the refused lines. */
export interface CheckpointLog {
  readonly checkpoints: readonly Checkpoint[];
  readonly refused: ReadonlyArray<{ readonly line: number; readonly reason: string }>;
}

/** Reads the checkpoint file in `dir`; undefined when there is none. */
export async function loadCheckpoints(dir: string, publicKey: KeyObject): Promise<CheckpointLog | undefined> {
  const lines = await readCheckpointLines(dir);
  if (!lines) return undefined;
  const checkpoints: Checkpoint[] = [];
  const refused: Array<{ line: number; reason: string }> = [];
  for (const { line, text } of lines) {
    const checked = checkCheckpointLine(text, publicKey);
    if (checked.ok) checkpoints.push(checked.checkpoint);
    else refused.push({ line, reason: checked.reason });
  }
  return { checkpoints, refused };
}

function missing(c: Checkpoint, tip: { pos: number; count: number }): string {
  if (c.seq > tip.pos) {
    return `truncated: the checkpoint of ${c.at} recorded ${c.count} entries up to #${c.seq}, but the chain ends at #${tip.pos} with ${tip.count} entries (${Math.max(0, c.count - tip.count)} missing at the end)`;
  }
  return `entry #${c.seq} named by the checkpoint of ${c.at} is missing (deleted)`;
}

/** The entries not sealed yet: how many, and how many of them older than the threshold (a sealer not running). */
export interface Unsealed {
  readonly count: number;
  readonly stale: number;
  readonly staleSeconds: number;
  /** The oldest unsealed entry, when there is one. */
  readonly oldest?: { readonly seq: number; readonly id: string; readonly at: Date };
}

async function unsealedEntries(tx: Executor, now: Date, staleSeconds: number): Promise<Unsealed> {
  const cutoff = new Date(now.getTime() - staleSeconds * 1000);
  const [counts] = await tx
    .select({
      count: sql<number>`count(*)::int`,
      stale: sql<number>`(count(*) filter (where ${auditLog.at} < ${cutoff.toISOString()}::timestamptz))::int`,
    })
    .from(auditLog)
    .where(isNull(auditLog.hash));
  const [oldest] = await tx
    .select({ seq: auditLog.seq, id: auditLog.id, at: auditLog.at })
    .from(auditLog)
    .where(isNull(auditLog.hash))
    .orderBy(asc(auditLog.at))
    .limit(1);
  return { count: Number(counts?.count ?? 0), stale: Number(counts?.stale ?? 0), staleSeconds, oldest };
}

/** How the walk checks the checkpoints as it passes them; a string is the first break found. */
function checkpointAt(pending: Checkpoint[], e: SealedEntry, count: number): string | undefined {
  for (; pending[0]?.seq === e.chainPos; pending.shift()) {
    const c = pending[0];
    if (c.hash !== e.hash) return `rewritten: its hash differs from the one the checkpoint of ${c.at} recorded`;
    if (c.count !== count)
      return `the checkpoint of ${c.at} counted ${c.count} entries up to it, the chain has ${count}`;
  }
  return undefined;
}

/** Options of the verifier: its clock and how long an entry may wait for its seal before it is reported. */
export interface VerifyOptions {
  readonly now?: Date;
  readonly staleSeconds?: number;
  /** Entries read at a time (the walk's memory is bounded by it); small in tests that cross page boundaries. */
  readonly pageSize?: number;
}

/**
 * Walks the sealed chain by position in one snapshot and checks each checkpoint where the walk passes
 * its position; counts the entries not sealed yet. Read the checkpoints BEFORE calling: a checkpoint
 * taken after the snapshot could name entries it cannot see.
 */
export async function verifyShopAudit(
  database: Database,
  anchor: readonly Checkpoint[] = [],
  options: VerifyOptions = {},
): Promise<AuditVerdict> {
  const pending = [...anchor].sort((a, b) => a.seq - b.seq);
  const now = options.now ?? new Date();
  const staleSeconds = options.staleSeconds ?? DEFAULT_SEAL_STALE_SECONDS;
  return database.db.transaction(
    async (tx): Promise<AuditVerdict> => {
      let prev = { ...CHAIN_START, count: 0 };
      // A checkpoint of the empty chain (position 0) names no entry: it only has to be the empty chain's.
      for (; pending[0]?.seq === 0; pending.shift()) {
        if (pending[0].hash !== GENESIS || pending[0].count !== 0)
          return {
            ok: false,
            count: 0,
            broken: { seq: 0, reason: `the checkpoint of ${pending[0].at} names entry #0 but not the empty chain` },
          };
      }
      for await (const page of sealedPages(tx, 0, options.pageSize)) {
        for (const e of page) {
          const entry = { id: e.id, at: e.at, action: e.action, subject: e.subject };
          const link = chainBreak(prev, e);
          if (link) return { ok: false, count: prev.count, broken: { seq: e.chainPos, entry, reason: link } };
          if (pending[0] && pending[0].seq < e.chainPos)
            return { ok: false, count: prev.count, broken: { seq: pending[0].seq, reason: missing(pending[0], prev) } };
          prev = { pos: e.chainPos, hash: e.hash, version: e.chainVersion, count: prev.count + 1 };
          const wrong = checkpointAt(pending, e, prev.count);
          if (wrong) return { ok: false, count: prev.count, broken: { seq: e.chainPos, entry, reason: wrong } };
        }
      }
      if (pending[0])
        return { ok: false, count: prev.count, broken: { seq: pending[0].seq, reason: missing(pending[0], prev) } };
      const latest = [...anchor].sort((a, b) => b.seq - a.seq || b.at.localeCompare(a.at))[0];
      const unsealed = await unsealedEntries(tx, now, staleSeconds);
      return {
        ok: true,
        count: prev.count,
        tipSeq: prev.pos,
        checkpoint: latest,
        checkpoints: anchor.length,
        unsealed,
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
