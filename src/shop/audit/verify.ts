// Verifies the shop's audit log: every link of the hash chain from the first entry, and every signed
// checkpoint against the chain (the entry it names still exists with that hash, and exactly that many
// entries lead up to it). A chain whose links hold can still have been cut at the end or rewritten
// from scratch; only a checkpoint kept outside the database shows that.
import type { KeyObject } from 'node:crypto';
import type { Database } from '../../platform/db/database.ts';
import { auditEntriesAfter, entryLinks, GENESIS, type AuditEntry } from '../storage/audit.ts';
import { readCheckpointLines } from './checkpoint-file.ts';
import { checkCheckpointLine, type Checkpoint } from './checkpoint.ts';

/** What is wrong, at which entry (0 when the checkpoint file itself is at fault). */
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
      readonly tipSeq: number;
      readonly checkpoint: Checkpoint | undefined;
      readonly checkpoints: number;
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

function linkReason(prevHash: string, e: AuditEntry): string {
  return e.prevHash !== prevHash
    ? "its prev_hash is not the previous entry's hash (an entry before it was deleted, inserted or edited)"
    : 'its hash does not match its content (the entry was edited)';
}

function missing(c: Checkpoint, tip: { seq: number; count: number }): string {
  if (c.seq > tip.seq) {
    return `truncated: the checkpoint of ${c.at} recorded ${c.count} entries up to #${c.seq}, but the chain ends at #${tip.seq} with ${tip.count} entries (${Math.max(0, c.count - tip.count)} missing at the end)`;
  }
  return `entry #${c.seq} named by the checkpoint of ${c.at} is missing (deleted)`;
}

/**
 * Walks the chain in one snapshot and checks each checkpoint where the walk passes its seq. Read the
 * checkpoints BEFORE calling: a checkpoint taken after the snapshot could name entries it cannot see.
 */
export async function verifyShopAudit(database: Database, anchor: readonly Checkpoint[] = []): Promise<AuditVerdict> {
  const pending = [...anchor].sort((a, b) => a.seq - b.seq);
  return database.db.transaction(
    async (tx) => {
      let prev = { seq: 0, hash: GENESIS, count: 0 };
      // A checkpoint of the empty chain (seq 0) names no entry: it only has to be the empty chain's.
      for (; pending[0]?.seq === 0; pending.shift()) {
        if (pending[0].hash !== GENESIS || pending[0].count !== 0)
          return {
            ok: false,
            count: 0,
            broken: { seq: 0, reason: `the checkpoint of ${pending[0].at} names entry #0 but not the empty chain` },
          };
      }
      for (let page = await auditEntriesAfter(tx, 0); page.length > 0; page = await auditEntriesAfter(tx, prev.seq)) {
        for (const e of page) {
          const entry = { id: e.id, at: e.at, action: e.action, subject: e.subject };
          if (!entryLinks(prev.hash, e))
            return { ok: false, count: prev.count, broken: { seq: e.seq, entry, reason: linkReason(prev.hash, e) } };
          if (pending[0] && pending[0].seq < e.seq)
            return { ok: false, count: prev.count, broken: { seq: pending[0].seq, reason: missing(pending[0], prev) } };
          prev = { seq: e.seq, hash: e.hash, count: prev.count + 1 };
          for (; pending[0]?.seq === e.seq; pending.shift()) {
            const c = pending[0];
            if (c.hash !== e.hash)
              return {
                ok: false,
                count: prev.count,
                broken: {
                  seq: e.seq,
                  entry,
                  reason: `rewritten: its hash differs from the one the checkpoint of ${c.at} recorded`,
                },
              };
            if (c.count !== prev.count)
              return {
                ok: false,
                count: prev.count,
                broken: {
                  seq: e.seq,
                  entry,
                  reason: `the checkpoint of ${c.at} counted ${c.count} entries up to it, the chain has ${prev.count}`,
                },
              };
          }
        }
      }
      if (pending[0])
        return { ok: false, count: prev.count, broken: { seq: pending[0].seq, reason: missing(pending[0], prev) } };
      const latest = [...anchor].sort((a, b) => b.seq - a.seq || b.at.localeCompare(a.at))[0];
      return { ok: true, count: prev.count, tipSeq: prev.seq, checkpoint: latest, checkpoints: anchor.length };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
