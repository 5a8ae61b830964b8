// The audit chain verifier (`countersign audit verify`, and its library in process), run against the
// shop's database on both engines, with the signed checkpoints the shop keeps outside its database:
// OK with the count and the checkpoint when intact; an edited or deleted entry, entries cut from the
// end, a chain rewritten from scratch with every hash recomputed, and an edited checkpoint file are
// each named with exit code 1; no checkpoint is refused (the library's 2, the command's 3;
// test/shop-audit-nothing.test.ts: a verifier pointed at nothing).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq, gt, sql } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { openDatabase, type Database, type DatabaseLocation } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName, testEngines } from '../src/platform/db/testing.ts';
import { checkpointFile } from '../src/shop/audit/checkpoint-file.ts';
import { newAuditSigningKey, parseAuditPrivateKey, signCheckpoint } from '../src/shop/audit/checkpoint.ts';
import { writeAuditCheckpoint } from '../src/shop/audit/checkpointer.ts';
import { sealAll } from '../src/shop/audit/sealer.ts';
import { loadCheckpoints, verifyShopAudit } from '../src/shop/audit/verify.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit, GENESIS, verifyAuditChain } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';
import { adminQuery, rehashChain, tamper, verifyCommand, verifyInProcess } from './support/audit.ts';

const SIGNING_KEY = newAuditSigningKey();

for (const engine of testEngines()) {
  describe(`countersign audit verify on ${engine}`, () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    let base: { location: DatabaseLocation; dir: string };
    let ids: string[] = [];
    let seqs: number[] = []; // chain positions

    // One shop database with six entries and a checkpoint of them; each case tampers with its own copy.
    before(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cs-audit-'));
      dirs.push(dir);
      const location: DatabaseLocation =
        engine === 'pglite'
          ? { engine: 'pglite', dataDir: join(dir, 'shop') }
          : { engine: 'postgres', url: databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec)), poolSize: 2 };
      const database = await openDatabase(shopDatabaseSpec, location);
      await appendEntries(database, 6);
      assert.equal(
        (
          await writeAuditCheckpoint({
            database,
            clock,
            dir: join(dir, 'audit-checkpoints'),
            signingKey: parseAuditPrivateKey(SIGNING_KEY),
          })
        ).kind,
        'written',
      );
      const rowsOf = await database.db
        .select({ id: auditLog.id, pos: auditLog.chainPos })
        .from(auditLog)
        .orderBy(auditLog.chainPos);
      ids = rowsOf.map((r) => r.id);
      seqs = rowsOf.map((r) => r.pos!);
      await database.close();
      base = { location, dir };
    });

    async function appendEntries(database: Database, count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        await database.transaction((tx) =>
          appendAudit(
            tx,
            { actor: 'usr_test', action: 'order.placed', subject: `ord_${i}`, data: { n: i, nested: { b: 1, a: 2 } } },
            clock.now(),
          ),
        );
        clock.advance(1000);
      }
      // What the shop's sealer does moments after the commits.
      await sealAll(database);
    }

    /** A copy of the base shop (database and checkpoint file), open, with the env that points the verifier at it. */
    async function shopWithAudit() {
      const dir = mkdtempSync(join(tmpdir(), 'cs-audit-'));
      dirs.push(dir);
      const checkpointDir = join(dir, 'audit-checkpoints');
      cpSync(join(base.dir, 'audit-checkpoints'), checkpointDir, { recursive: true });
      let location: DatabaseLocation;
      let env: Record<string, string> = { SHOP_AUDIT_SIGNING_KEY: SIGNING_KEY };
      if (base.location.engine === 'pglite') {
        cpSync(base.location.dataDir!, join(dir, 'shop'), { recursive: true });
        location = { engine: 'pglite', dataDir: join(dir, 'shop') };
        env = { ...env, DATA_DIR: dir };
      } else {
        const name = `t_audit_${randomBytes(6).toString('hex')}`;
        await adminQuery(`create database ${name} template ${new URL(base.location.url).pathname.slice(1)}`);
        location = { engine: 'postgres', url: databaseUrl(name), poolSize: 2 };
        env = { ...env, SHOP_DATABASE_URL: location.url, SHOP_AUDIT_CHECKPOINT_DIR: checkpointDir };
      }
      const database = await openDatabase(shopDatabaseSpec, location);
      return { database, ids, seqs, env, checkpointDir, append: (n: number) => appendEntries(database, n) };
    }

    it('prints OK with the number of entries and the checkpoint, and exits 0 when the chain is intact', async () => {
      const shop = await shopWithAudit();
      await shop.append(2); // after the checkpoint: fine, not anchored yet
      await shop.database.close();
      const { code, out } = await verifyCommand(shop.env);
      assert.equal(code, 0, out);
      assert.match(
        out,
        /^OK: audit chain intact, 8 entries .*checked against the checkpoint of \S+ \(entry #\d+, 6 entries\); 2 entries since are not anchored yet/m,
      );
    });

    it('names the edited entry as the first broken link and exits 1 after a row is tampered with the trigger disabled', async () => {
      const { database, ids, env } = await shopWithAudit();
      await tamper(database, () =>
        database.db.execute(sql`update audit_log set data = '{"n": 99}'::jsonb where id = ${ids[3]!}`),
      );
      await database.close();
      const { code, out } = await verifyInProcess(env);
      assert.equal(code, 1, out);
      assert.match(out, new RegExp(`BROKEN: first broken link at entry #\\d+ ${ids[3]} \\(order\\.placed on ord_3`));
      assert.match(out, /edited/);
      assert.ok(!out.includes(ids[4]!), 'only the first broken link is named');
    });

    it('names the entry after a deleted one (its prev_hash no longer matches) in process', async () => {
      const { database, ids, env } = await shopWithAudit();
      await tamper(database, () => database.db.execute(sql`delete from audit_log where id = ${ids[1]!}`));
      await database.close();
      const { code, out } = await verifyInProcess(env);
      assert.equal(code, 1, out);
      assert.match(
        out,
        new RegExp(`BROKEN: first broken link at entry #\\d+ ${ids[2]} \\(order\\.placed on ord_2.*prev_hash`),
      );
    });

    it('detects the last entries deleted after a checkpoint as truncation, though every remaining link holds', async () => {
      const { database, seqs, env } = await shopWithAudit();
      await tamper(database, () => database.db.delete(auditLog).where(gt(auditLog.chainPos, seqs[3]!)));
      assert.equal(await verifyAuditChain(database.db), null, 'the links alone hold');
      await database.close();
      const { code, out } = await verifyCommand(env);
      assert.equal(code, 1, out);
      assert.match(
        out,
        new RegExp(
          `BROKEN: truncated: the checkpoint of \\S+ recorded 6 entries up to #${seqs[5]}, but the chain ends at #${seqs[3]} with 4 entries \\(2 missing at the end\\)`,
        ),
      );
    });

    it('detects every entry deleted (an empty log) against the checkpoint', async () => {
      const { database, env } = await shopWithAudit();
      await tamper(database, () => database.db.delete(auditLog));
      await database.close();
      const { code, out } = await verifyInProcess(env);
      assert.equal(code, 1, out);
      assert.match(out, /BROKEN: truncated: .* 6 entries .* ends at #0 with 0 entries \(6 missing at the end\)/);
    });

    it('detects a chain rewritten from scratch with every hash recomputed (an entry removed, the rest rehashed, one added to keep the length)', async () => {
      const { database, ids, env, append } = await shopWithAudit();
      await tamper(database, async () => {
        await database.db.delete(auditLog).where(eq(auditLog.id, ids[1]!));
        await rehashChain(database);
      });
      // One more entry, so the rewritten chain is as long as the checkpoint says again.
      await append(1);
      assert.equal(await verifyAuditChain(database.db), null, 'the rewritten chain links up');
      await database.close();
      const { code, out } = await verifyInProcess(env);
      assert.equal(code, 1, out);
      assert.match(out, /BROKEN: .*rewritten: its hash differs from the one the checkpoint of \S+ recorded/);
    });

    it('reports an edited checkpoint line and one signed by another key as tampering', async () => {
      const { database, env, checkpointDir } = await shopWithAudit();
      await database.close();
      const file = checkpointFile(checkpointDir);
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { seq: number; count: number };
      const forged = signCheckpoint(parseAuditPrivateKey(newAuditSigningKey()), {
        seq: line.seq,
        hash: GENESIS,
        count: 1,
        at: new Date().toISOString(),
      });
      writeFileSync(file, `${JSON.stringify({ ...line, count: line.count - 2 })}\n${forged}\n`);
      const { code, out } = await verifyInProcess(env);
      assert.equal(code, 1, out);
      assert.match(
        out,
        new RegExp(
          `BROKEN: checkpoint file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 1: its signature does not match its content`,
        ),
      );
      assert.match(out, /line 2: signed by key [0-9a-f]{16}, not by the shop's key/);
    });

    it('refuses with exit 2 when there is no checkpoint, unless --allow-no-checkpoint', async () => {
      const { database, env, checkpointDir } = await shopWithAudit();
      await database.close();
      rmSync(checkpointFile(checkpointDir));
      const refused = await verifyInProcess(env);
      assert.equal(refused.code, 2, refused.out);
      assert.match(
        refused.out,
        /^ERROR: could not verify the audit chain: no audit checkpoint in .*shop-audit-checkpoints\.jsonl: truncation of the chain cannot be detected/m,
      );
      const allowed = await verifyInProcess(env, ['--allow-no-checkpoint']);
      assert.equal(allowed.code, 0, allowed.out);
      assert.match(allowed.out, /^WARNING: no audit checkpoint/m);
      assert.match(allowed.out, /^OK: audit chain intact, 6 entries/m);
    });

    it('reading two entries at a time, finds an edit in a later page, a deletion at a page boundary and a checkpoint past several pages', async () => {
      const { database, ids, seqs, checkpointDir } = await shopWithAudit();
      const log = await loadCheckpoints(checkpointDir, parseAuditPrivateKey(SIGNING_KEY));
      const anchor = log?.checkpoints ?? [];
      assert.equal(anchor.length, 1);
      const pages = { pageSize: 2 };
      const intact = await verifyShopAudit(database, anchor, pages);
      assert.ok(
        intact.ok && intact.count === 6 && intact.tipSeq === seqs[5],
        'six entries over three pages, the checkpoint at the last',
      );
      await tamper(database, () =>
        database.db.execute(sql`update audit_log set data = '{"n": 5}'::jsonb where id = ${ids[5]!}`),
      );
      const edited = await verifyShopAudit(database, anchor, pages);
      assert.ok(!edited.ok && edited.broken.seq === seqs[5] && edited.count === 5, JSON.stringify(edited));
      // The first entry of the second page gone: the page after entry #2 starts at #4, whose prev_hash is #3's.
      await tamper(database, () => database.db.delete(auditLog).where(eq(auditLog.id, ids[2]!)));
      const cut = await verifyShopAudit(database, anchor, pages);
      assert.ok(!cut.ok && cut.broken.seq === seqs[3] && cut.count === 2, JSON.stringify(cut));
      assert.match(cut.broken.reason, /prev_hash/);
      await database.close();
    });

    it('exits 2 naming the failure when the database cannot be opened', async () => {
      const { code, out } = await verifyInProcess({ SHOP_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
      assert.equal(code, 2);
      assert.match(out, /^ERROR: could not verify/);
    });
  });
}
