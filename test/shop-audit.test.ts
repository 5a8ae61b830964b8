// The audit chain verifier (`npx tsx scripts/verify-audit.ts`), run as a real process against the
// shop's database on both engines: OK with the count when intact; an entry edited with the
// append-only trigger disabled, or one deleted, is named as the first broken link with exit code 1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { openDatabase, type Database, type DatabaseLocation } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName, testEngines } from '../src/platform/db/testing.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';
import { main } from '../scripts/verify-audit.ts';

const run = promisify(execFile);

/** Runs the command as the operator would; resolves with its exit code and output. */
async function verifyCommand(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SHOP_|DATA_DIR$)/.test(k)));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/verify-audit.ts'], { env: { ...clean, ...env }, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

for (const engine of testEngines()) {
  describe(`verify-audit on ${engine}`, () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    let location: DatabaseLocation;
    let env: Record<string, string>;
    let dir: string | undefined;
    const ids: string[] = [];

    async function open(): Promise<Database> {
      return openDatabase(shopDatabaseSpec, location);
    }

    before(async () => {
      if (engine === 'pglite') {
        dir = mkdtempSync(join(tmpdir(), 'cs-audit-'));
        location = { engine: 'pglite', dataDir: join(dir, 'shop') };
        env = { DATA_DIR: dir };
      } else {
        const url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
        location = { engine: 'postgres', url, poolSize: 2 };
        env = { SHOP_DATABASE_URL: url };
      }
      const database = await open();
      for (let i = 0; i < 6; i++) {
        await database.transaction((tx) => appendAudit(tx, { actor: 'usr_test', action: 'order.placed', subject: `ord_${i}`, data: { n: i, nested: { b: 1, a: 2 } } }, clock.now()));
        clock.advance(1000);
      }
      ids.push(...(await database.db.select({ id: auditLog.id }).from(auditLog).orderBy(auditLog.seq)).map((r) => r.id));
      await database.close();
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('prints OK with the number of entries and exits 0 when the chain is intact', async () => {
      const { code, out } = await verifyCommand(env);
      assert.equal(code, 0, out);
      assert.match(out, /^OK: audit chain intact, 6 entries/m);
    });

    it('names the edited entry as the first broken link and exits 1 after a row is tampered with the trigger disabled', async () => {
      const database = await open();
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
      await database.db.execute(sql`update audit_log set data = '{"n": 99}'::jsonb where id = ${ids[3]!}`);
      await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
      await database.close();
      const { code, out } = await verifyCommand(env);
      assert.equal(code, 1, out);
      assert.match(out, new RegExp(`BROKEN: first broken link at entry #\\d+ ${ids[3]} \\(order\\.placed on ord_3`));
      assert.match(out, /edited/);
      assert.ok(!out.includes(ids[4]!), 'only the first broken link is named');
    });

    it('names the entry after a deleted one (its prev_hash no longer matches) through main()', async () => {
      const database = await open();
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
      // The edited entry goes too, so that the deletion of an earlier one is the first break.
      await database.db.execute(sql`delete from audit_log where id in (${ids[1]!}, ${ids[3]!})`);
      await database.db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
      await database.close();
      const lines: string[] = [];
      const code = await main(env, (l) => lines.push(l));
      assert.equal(code, 1, lines.join('\n'));
      assert.match(lines[0]!, new RegExp(`${ids[2]} \\(order\\.placed on ord_2`));
      assert.match(lines[0]!, /prev_hash/);
    });

    it('exits 2 naming the failure when the database cannot be opened', async () => {
      const lines: string[] = [];
      assert.equal(await main({ SHOP_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, (l) => lines.push(l)), 2);
      assert.match(lines[0]!, /^ERROR: could not verify/);
    });
  });
}
