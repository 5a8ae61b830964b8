// Takes a checkpoint of the audit chain's sealed tip: a recurring job (every
// SHOP_AUDIT_CHECKPOINT_SECONDS) and the shop's clean shutdown (after the sealer's last pass). Each checkpoint is written only after the chain is seen to still hold the
// previous one and to lead from it, link by link, to the new tip: so the shop never signs a chain that
// was cut or rewritten since, and each checkpoint vouches for the one before it.
import type { KeyObject } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import { CHAIN_START, CHAIN_VERSION, chainBreak, GENESIS, sealedPages, type ChainLink } from '../storage/audit.ts';
import { auditLog } from '../storage/tables.ts';
import { appendCheckpointLine, lastCheckpointLines } from './checkpoint-file.ts';
import { checkCheckpointLine, signCheckpoint, type Checkpoint } from './checkpoint.ts';

export const AUDIT_CHECKPOINT_TASK = 'shop.audit.checkpoint';

/** What one run did: wrote a checkpoint, found nothing new, or refused because the chain no longer holds the last one. */
export type CheckpointOutcome =
  | { readonly kind: 'written'; readonly checkpoint: Checkpoint }
  | { readonly kind: 'unchanged'; readonly checkpoint: Checkpoint }
  | { readonly kind: 'refused'; readonly reason: string };

/** The newest line of the file that this key signed. */
async function previousCheckpoint(dir: string, key: KeyObject): Promise<Checkpoint | undefined> {
  for (const line of await lastCheckpointLines(dir)) {
    const checked = checkCheckpointLine(line, key);
    if (checked.ok) return checked.checkpoint;
  }
  return undefined;
}

/** The sealed tip the chain reaches from `from` (a checkpoint's position), or why the chain does not lead on from it. */
async function tipFrom(
  tx: Executor,
  from: { seq: number; hash: string; count: number },
): Promise<{ seq: number; hash: string; count: number } | string> {
  let prev: ChainLink = CHAIN_START;
  if (from.seq > 0) {
    const [row] = await tx
      .select({ hash: auditLog.hash, version: auditLog.chainVersion })
      .from(auditLog)
      .where(eq(auditLog.chainPos, from.seq));
    if (!row) return `entry #${from.seq} of the last checkpoint is gone (the chain was cut)`;
    if (row.hash !== from.hash)
      return `entry #${from.seq} no longer has the last checkpoint's hash (the chain was rewritten)`;
    prev = { pos: from.seq, hash: from.hash, version: row.version ?? CHAIN_VERSION };
  }
  let count = from.count;
  for await (const page of sealedPages(tx, prev.pos)) {
    for (const e of page) {
      if (chainBreak(prev, e)) return `entry #${e.chainPos} does not chain from #${prev.pos}`;
      prev = { pos: e.chainPos, hash: e.hash, version: e.chainVersion };
      count += 1;
    }
  }
  return { seq: prev.pos, hash: prev.hash, count };
}

/** Checks the chain against the last checkpoint and appends a new one when the tip moved. */
export async function writeAuditCheckpoint(deps: {
  database: Database;
  clock: Clock;
  dir: string;
  signingKey: KeyObject;
}): Promise<CheckpointOutcome> {
  const previous = await previousCheckpoint(deps.dir, deps.signingKey);
  // One snapshot: the tip and the count agree, whatever is appended meanwhile.
  const tip = await deps.database.db.transaction((tx) => tipFrom(tx, previous ?? { seq: 0, hash: GENESIS, count: 0 }), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  });
  if (typeof tip === 'string') return { kind: 'refused', reason: tip };
  if (previous && tip.seq === previous.seq) return { kind: 'unchanged', checkpoint: previous };
  const checkpoint: Checkpoint = { ...tip, at: deps.clock.now().toISOString() };
  await appendCheckpointLine(deps.dir, signCheckpoint(deps.signingKey, checkpoint));
  return { kind: 'written', checkpoint };
}

/** The checkpointer as the shop runs it: logs what it did; a refusal is logged as tampering. */
export function auditCheckpointer(deps: {
  database: Database;
  clock: Clock;
  log: Logger;
  dir: string;
  signingKey: KeyObject | undefined;
}) {
  return async (): Promise<void> => {
    if (!deps.signingKey) {
      deps.log.warn({}, 'audit checkpoint skipped: SHOP_AUDIT_SIGNING_KEY is not set on this node');
      return;
    }
    const outcome = await writeAuditCheckpoint({ ...deps, signingKey: deps.signingKey });
    if (outcome.kind === 'refused')
      deps.log.error(
        { dir: deps.dir, reason: outcome.reason },
        'audit chain does not hold the last checkpoint: possible tampering; no new checkpoint written (run countersign audit verify)',
      );
    else if (outcome.kind === 'written')
      deps.log.debug({ seq: outcome.checkpoint.seq, count: outcome.checkpoint.count }, 'audit checkpoint written');
  };
}
