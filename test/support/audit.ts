// Tests of the audit log: the verifier run as the operator runs it, and what someone with the
// database's owner rights can do to the log (edit, delete, cut, rewrite with every hash recomputed).
import { spawn } from 'node:child_process';
import pg from 'pg';
import { asc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/database.ts';
import { adminUrl } from '../../src/platform/db/testing.ts';
import { verifyAuditCommand } from '../../src/shop/audit/verify-command.ts';
import { CHAIN_VERSION, GENESIS, sealedHash } from '../../src/shop/storage/audit.ts';
import { auditChainTip, auditLog } from '../../src/shop/storage/tables.ts';
import { projectRoot } from '../../src/platform/project-root.ts';

const ROOT = projectRoot();

/**
 * Runs `countersign audit verify` as the operator would (the real command line, its own process, none
 * of this process's SHOP_* settings); resolves with its exit code (0 intact, 1 broken, 3 could not
 * check) and what it printed.
 */
export async function verifyCommand(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; out: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(SHOP_|DATA_DIR$)/.test(k)),
  ) as Record<string, string>;
  const child = spawn(process.execPath, ['bin/countersign.mjs', 'audit', 'verify', ...args], {
    cwd: ROOT,
    env: { ...clean, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  return { code, out };
}

/** The verifier in the test's own process (exit codes as the library returns them: 2 = could not check). */
export async function verifyInProcess(
  env: Record<string, string | undefined>,
  args: readonly string[] = [],
): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await verifyAuditCommand(args, env, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

/** Runs `change` on the audit log with its append-only trigger off, as someone with the database's owner rights could. */
export async function tamper(database: Database, change: () => Promise<unknown>): Promise<void> {
  await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
  await change();
  await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
}

/**
 * Recomputes every sealed entry's position and hash from the first one: a rewritten chain whose links
 * all hold again (positions renumbered 1..n, each in turn, so the unique index never sees a duplicate),
 * and the chain's end (audit_chain_tip) set to its last entry.
 */
export async function rehashChain(database: Database): Promise<void> {
  let prev = GENESIS;
  let pos = 0;
  for (const e of await database.db
    .select()
    .from(auditLog)
    .where(isNotNull(auditLog.chainPos))
    .orderBy(asc(auditLog.chainPos))) {
    pos += 1;
    const hash = sealedHash(prev, pos, e);
    await database.db
      .update(auditLog)
      .set({ chainPos: pos, chainVersion: CHAIN_VERSION, prevHash: prev, hash })
      .where(eq(auditLog.seq, e.seq));
    prev = hash;
  }
  // The chain's end too, as a rewrite that wants the sealer to go on from it would.
  await database.db.update(auditChainTip).set({ pos, hash: prev });
}

/** Runs one statement on the throwaway PostgreSQL cluster as its superuser (create or drop a database). */
export async function adminQuery(text: string): Promise<Array<Record<string, unknown>>> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    return (await admin.query(text)).rows as Array<Record<string, unknown>>;
  } finally {
    await admin.end();
  }
}
