// A shop whose audit chain was written before the sealer (every entry chained at insert, by seq, under
// a global lock), migrated on both engines: its entries keep their hashes (version 1, position = seq,
// gaps in seq included), its signed checkpoints still hold, and the entries sealed after the migration
// continue the chain from its tip at the next positions; an edited old entry is still named.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { asc, sql } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { openDatabase, rows, type DatabaseLocation } from '../src/platform/db/database.ts';
import { databaseUrl, testEngines } from '../src/platform/db/testing.ts';
import { appendCheckpointLine } from '../src/shop/audit/checkpoint-file.ts';
import { newAuditSigningKey, parseAuditPrivateKey, signCheckpoint } from '../src/shop/audit/checkpoint.ts';
import { writeAuditCheckpoint } from '../src/shop/audit/checkpointer.ts';
import { sealAll } from '../src/shop/audit/sealer.ts';
import { loadCheckpoints, verifyShopAudit } from '../src/shop/audit/verify.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit, entryHash, GENESIS } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';
import { adminQuery, tamper } from './support/audit.ts';

const KEY = parseAuditPrivateKey(newAuditSigningKey());

/** The shop's migrations as they were before the sealer: every one but the sealer's. */
function legacySpec(dir: string) {
  const folder = join(dir, 'migrations');
  cpSync(shopDatabaseSpec.migrationsFolder, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
  const sealerAt = journal.entries.findIndex((e) => e.tag.includes('audit-sealer'));
  assert.ok(sealerAt > 0, 'the sealer migration is in the journal');
  journal.entries = journal.entries.slice(0, sealerAt);
  writeFileSync(journalFile, JSON.stringify(journal));
  return { name: 'shop', migrationsFolder: folder };
}

for (const engine of testEngines()) {
  describe(`an audit chain written before the sealer, migrated, on ${engine}`, () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));

    it('keeps verifying with its checkpoints, and the sealer continues it at the next positions', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cs-legacy-'));
      dirs.push(dir);
      let location: DatabaseLocation = { engine: 'pglite', dataDir: join(dir, 'shop') };
      if (engine === 'postgres') {
        const name = `t_legacy_${randomBytes(6).toString('hex')}`;
        await adminQuery(`create database ${name}`);
        location = { engine: 'postgres', url: databaseUrl(name), poolSize: 2 };
      }
      // The old shop: entries chained at insert by seq, a seq lost to a rolled-back insert between.
      const old = await openDatabase(legacySpec(dir), location);
      let prev = GENESIS;
      const legacy: Array<{ seq: number; hash: string }> = [];
      for (let i = 0; i < 4; i++) {
        if (i === 2) await old.db.execute(sql`select nextval('audit_log_seq_seq')`);
        const e = {
          id: `aud_old${i}`,
          at: clock.now(),
          actor: 'usr_1',
          action: 'order.placed',
          subject: `ord_${i}`,
          data: { i, z: { b: 1, a: 2 } },
        };
        const hash = entryHash(prev, e);
        const [row] = await rows<{ seq: number }>(
          old.db,
          sql`insert into audit_log (id, at, actor, action, subject, data, prev_hash, hash)
              values (${e.id}, ${e.at.toISOString()}::timestamptz, ${e.actor}, ${e.action}, ${e.subject}, ${JSON.stringify(e.data)}::jsonb, ${prev}, ${hash})
              returning seq::int as seq`,
        );
        legacy.push({ seq: row!.seq, hash });
        prev = hash;
        clock.advance(1000);
      }
      assert.deepEqual(
        legacy.map((l) => l.seq),
        [1, 2, 4, 5],
      );
      const checkpoints = join(dir, 'audit-checkpoints');
      await appendCheckpointLine(
        checkpoints,
        signCheckpoint(KEY, { seq: 5, hash: prev, count: 4, at: clock.now().toISOString() }),
      );
      await old.close();

      // The new shop on the same database: the sealer's migration runs.
      const database = await openDatabase(shopDatabaseSpec, location);
      try {
        const migrated = await database.db.select().from(auditLog).orderBy(asc(auditLog.seq));
        assert.deepEqual(
          migrated.map((e) => [e.seq, e.chainPos, e.chainVersion, e.hash]),
          legacy.map((l) => [l.seq, l.seq, 1, l.hash]),
          'old entries keep their hashes; their position is their seq',
        );
        for (let i = 0; i < 3; i++) {
          await database.transaction((tx) =>
            appendAudit(tx, { actor: 'usr_1', action: 'order.placed', subject: `new_${i}` }, clock.now()),
          );
        }
        assert.equal(await sealAll(database), 3);
        const positions = (await database.db.select().from(auditLog).orderBy(asc(auditLog.chainPos))).map((e) => [
          e.chainPos,
          e.chainVersion,
        ]);
        assert.deepEqual(positions.slice(4), [
          [6, 2],
          [7, 2],
          [8, 2],
        ]);
        const written = await writeAuditCheckpoint({ database, clock, dir: checkpoints, signingKey: KEY });
        assert.equal(written.kind, 'written', JSON.stringify(written));
        const log = await loadCheckpoints(checkpoints, KEY);
        assert.equal(log!.checkpoints.length, 2);
        const verdict = await verifyShopAudit(database, log!.checkpoints, { now: clock.now() });
        assert.ok(verdict.ok, JSON.stringify(verdict));
        assert.deepEqual([verdict.count, verdict.tipSeq, verdict.unsealed.count], [7, 8, 0]);

        await tamper(database, () => database.db.execute(sql`update audit_log set subject = 'x' where seq = 4`));
        const broken = await verifyShopAudit(database, log!.checkpoints, { now: clock.now() });
        assert.ok(!broken.ok && broken.broken.seq === 4, JSON.stringify(broken));
      } finally {
        await database.close();
      }
    });
  });
}
