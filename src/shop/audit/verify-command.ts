// The audit verifier as a command (`countersign audit verify`, src/cli/commands/audit.ts, runs it):
// finds the shop's database from the shop's own variables WITHOUT creating one, reads the signed
// checkpoints, walks the chain, prints the verdict. Exit codes: 0 intact, 1 broken or tampered, or
// entries left unsealed past SHOP_AUDIT_SEAL_STALE_SECONDS (no sealer running), 2 could not check
// (no database, no checkpoint, no key, unreachable).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openExistingDatabase, rows, type Database } from '../../platform/db/database.ts';
import { parseServiceBase } from '../../platform/service.ts';
import { shopDatabaseSpec } from '../main.ts';
import { checkpointFile } from './checkpoint-file.ts';
import { keyId, type Checkpoint } from './checkpoint.ts';
import { loadAuditVerifierConfig } from './config.ts';
import { loadCheckpoints, verifyShopAudit, type AuditVerdict, type Unsealed } from './verify.ts';

export const ALLOW_NO_CHECKPOINT = '--allow-no-checkpoint';

class CannotVerify extends Error {}

async function openShopDatabase(env: Record<string, string | undefined>): Promise<Database> {
  const base = parseServiceBase('shop', 3000, env);
  if (!base.databaseUrl && !existsSync(join(base.dataDir, 'PG_VERSION'))) {
    throw new CannotVerify(
      `no shop database at ${base.dataDir} (set SHOP_DATA_DIR, DATA_DIR or SHOP_DATABASE_URL to the shop's); nothing was created`,
    );
  }
  const database = await openExistingDatabase(
    shopDatabaseSpec,
    base.databaseUrl
      ? { engine: 'postgres', url: base.databaseUrl, poolSize: 1 }
      : { engine: 'pglite', dataDir: base.dataDir },
  );
  const [found] = await rows<{ t: string | null }>(database.db, sql`select to_regclass('audit_log')::text as t`).catch(
    async (err) => {
      await database.close();
      throw err;
    },
  );
  if (!found?.t) {
    await database.close();
    throw new CannotVerify(
      `the database ${base.databaseUrl ? 'at SHOP_DATABASE_URL' : `at ${base.dataDir}`} has no shop audit log (not the shop's database, or the shop never started on it)`,
    );
  }
  return database;
}

/** Reads and checks the checkpoint file; lines refused are tampering (exit 1), no checkpoint at all cannot be verified (exit 2). */
async function readAnchor(
  env: Record<string, string | undefined>,
  allowNone: boolean,
  out: (line: string) => void,
): Promise<{ checkpoints: readonly Checkpoint[]; code?: number }> {
  const config = loadAuditVerifierConfig(env);
  const file = checkpointFile(config.dir);
  const none = (why: string) => {
    if (!allowNone)
      throw new CannotVerify(
        `${why}: truncation of the chain cannot be detected without one (the shop writes them when SHOP_AUDIT_SIGNING_KEY is set; ${ALLOW_NO_CHECKPOINT} checks the links only)`,
      );
    out(`WARNING: ${why}; checking the links only (entries cut from the end would not show)`);
    return { checkpoints: [] };
  };
  if (!config.publicKey) {
    if (!existsSync(file)) return none(`no audit checkpoint in ${file}`);
    throw new CannotVerify(
      `no key to check the signatures of ${file}: set SHOP_AUDIT_PUBLIC_KEY (or the shop's SHOP_AUDIT_SIGNING_KEY)`,
    );
  }
  const log = await loadCheckpoints(config.dir, config.publicKey);
  if (log && log.refused.length > 0) {
    for (const r of log.refused) out(`BROKEN: checkpoint file ${file} line ${r.line}: ${r.reason}`);
    return { checkpoints: log.checkpoints, code: 1 };
  }
  if (!log || log.checkpoints.length === 0) return none(`no audit checkpoint in ${file}`);
  out(
    `checkpoints: ${log.checkpoints.length} in ${file}, signatures checked with key ${keyId(config.publicKey)} (from ${config.keySource})`,
  );
  return { checkpoints: log.checkpoints };
}

/** The entries still waiting for their seal: a line each way, and 1 when some waited past the threshold. */
function reportUnsealed(u: Unsealed, out: (line: string) => void): number {
  if (u.count === 0) return 0;
  const oldest = u.oldest
    ? `; the oldest, ${u.oldest.id} (#${u.oldest.seq} by seq), of ${u.oldest.at.toISOString()}`
    : '';
  if (u.stale === 0) {
    out(`${u.count} entries committed and not sealed yet (the sealer chains them within moments)${oldest}`);
    return 0;
  }
  out(
    `PROBLEM: ${u.stale} of ${u.count} unsealed entries have waited more than ${u.staleSeconds} s for their seal${oldest}: is a shop node (its audit sealer) running? They are not in the chain, so not protected by it, until sealed`,
  );
  return 1;
}

function report(verdict: AuditVerdict, out: (line: string) => void): number {
  if (verdict.ok) {
    const c = verdict.checkpoint;
    const against = c
      ? `; checked against the checkpoint of ${c.at} (entry #${c.seq}, ${c.count} entries); ${verdict.count - c.count} entries since are not anchored yet`
      : '; no checkpoint to check truncation against';
    out(
      `OK: audit chain intact, ${verdict.count} entries${verdict.count ? ` (up to #${verdict.tipSeq})` : ''}${against}`,
    );
    return reportUnsealed(verdict.unsealed, out);
  }
  const b = verdict.broken;
  const where = b.entry
    ? `first broken link at entry #${b.seq} ${b.entry.id} (${b.entry.action} on ${b.entry.subject}, ${b.entry.at.toISOString()}): `
    : '';
  out(`BROKEN: ${where}${b.reason}; ${verdict.count} entries verified before it`);
  return 1;
}

/** Runs the verifier: prints what it found and returns the exit code. */
export async function verifyAuditCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const unknown = argv.filter((a) => a !== ALLOW_NO_CHECKPOINT);
  if (unknown.length > 0) {
    out(`ERROR: unknown argument ${unknown[0]} (usage: countersign audit verify [${ALLOW_NO_CHECKPOINT}])`);
    return 2;
  }
  let database: Database | undefined;
  try {
    database = await openShopDatabase(env);
    // The checkpoints first, then the chain's snapshot: a checkpoint is never newer than what we walk.
    const anchor = await readAnchor(env, argv.includes(ALLOW_NO_CHECKPOINT), out);
    const { sealStaleSeconds } = loadAuditVerifierConfig(env);
    const code = report(await verifyShopAudit(database, anchor.checkpoints, { staleSeconds: sealStaleSeconds }), out);
    return Math.max(code, anchor.code ?? 0);
  } catch (err) {
    out(`ERROR: could not verify the audit chain: ${(err as Error).message}`);
    return 2;
  } finally {
    await database?.close();
  }
}
