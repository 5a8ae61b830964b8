// Tests of the audit log: the verifier run as the operator runs it, and what someone with the
// database's owner rights can do to the log (edit, delete, cut, rewrite with every hash recomputed).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/database.ts';
import { adminUrl } from '../../src/platform/db/testing.ts';
import { entryHash, GENESIS } from '../../src/shop/storage/audit.ts';
import { auditLog } from '../../src/shop/storage/tables.ts';

const run = promisify(execFile);

/** Runs the command as the operator would; resolves with its exit code and output. */
export async function verifyCommand(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; out: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SHOP_|DATA_DIR$)/.test(k)));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/verify-audit.ts', ...args], {
      env: { ...clean, ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Runs `change` on the audit log with its append-only trigger off, as someone with the database's owner rights could. */
export async function tamper(database: Database, change: () => Promise<unknown>): Promise<void> {
  await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
  await change();
  await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
}

/** Recomputes every hash from the first entry: a rewritten chain whose links all hold again. */
export async function rehashChain(database: Database): Promise<void> {
  let prev = GENESIS;
  for (const e of await database.db.select().from(auditLog).orderBy(asc(auditLog.seq))) {
    const hash = entryHash(prev, e);
    await database.db.update(auditLog).set({ prevHash: prev, hash }).where(eq(auditLog.seq, e.seq));
    prev = hash;
  }
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
