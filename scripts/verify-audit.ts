// Verifies the shop's hash-chained audit log (seeds 001, 002): walks every entry from the first,
// recomputing each hash over the previous one, and names the first broken link (an edited, inserted
// or deleted entry breaks the chain from there on).
//
//   npx tsx scripts/verify-audit.ts
//
// It opens the shop's database from the same variables as the shop: SHOP_DATABASE_URL (PostgreSQL),
// otherwise SHOP_DATA_DIR or DATA_DIR/shop (embedded PGlite: stop the shop first, PGlite allows one
// process per directory). Exit code 0 when intact, 1 when broken, 2 when it could not check.
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { isMain, parseServiceBase } from '../src/platform/service.ts';
import { verifyAuditChain } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';

const shopSpec = { name: 'shop', migrationsFolder: fileURLToPath(new URL('../src/shop/storage/migrations', import.meta.url)) } as const;

/** The verdict on the chain: intact with its length, or the first broken entry and why. */
export type AuditVerdict =
  | { readonly ok: true; readonly count: number }
  | { readonly ok: false; readonly count: number; readonly broken: { seq: number; id: string; at: Date; action: string; subject: string; reason: string } };

/** Checks the shop's audit chain in an open database. */
export async function verifyShopAudit(database: Database): Promise<AuditVerdict> {
  const count = (await database.db.select({ seq: auditLog.seq }).from(auditLog)).length;
  const seq = await verifyAuditChain(database.db);
  if (seq === null) return { ok: true, count };
  const [entry] = await database.db.select().from(auditLog).where(eq(auditLog.seq, seq));
  const previous = (await database.db.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(asc(auditLog.seq))).filter((e) => e.seq < seq).at(-1);
  const reason = (previous?.hash ?? '0'.repeat(64)) !== entry!.prevHash
    ? 'its prev_hash is not the previous entry\'s hash (an entry before it was deleted, inserted or edited)'
    : 'its hash does not match its content (the entry was edited)';
  return { ok: false, count, broken: { seq, id: entry!.id, at: entry!.at, action: entry!.action, subject: entry!.subject, reason } };
}

/** Runs the command: prints the verdict and returns the exit code. */
export async function main(env: Record<string, string | undefined> = process.env, out: (line: string) => void = console.log): Promise<number> {
  let database: Database | undefined;
  try {
    const base = parseServiceBase('shop', 3000, env);
    database = await openDatabase(shopSpec, base.databaseUrl ? { engine: 'postgres', url: base.databaseUrl, poolSize: 1 } : { engine: 'pglite', dataDir: base.dataDir });
    const verdict = await verifyShopAudit(database);
    if (verdict.ok) {
      out(`OK: audit chain intact, ${verdict.count} entries`);
      return 0;
    }
    const b = verdict.broken;
    out(`BROKEN: first broken link at entry #${b.seq} ${b.id} (${b.action} on ${b.subject}, ${b.at.toISOString()}): ${b.reason}; ${verdict.count} entries in all`);
    return 1;
  } catch (err) {
    out(`ERROR: could not verify the audit chain: ${(err as Error).message}`);
    return 2;
  } finally {
    await database?.close();
  }
}

if (isMain(import.meta.url)) process.exitCode = await main();
