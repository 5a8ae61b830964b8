// The audit chain sealed after commit, on both engines: business transactions append unsealed entries
// without any lock while the sealer chains the committed ones. Afterwards every committed entry is
// sealed exactly once at contiguous positions and the chain verifies, and no rolled-back entry is there;
// the database refuses to reseal, edit or delete a sealed entry; a sealed entry edited, deleted, or two
// swapped is named by the verifier; entries left unsealed past the threshold are reported (no sealer
// running), not as a break. Sealers racing from the same end of the chain: one extends it, the others
// write nothing and read again. The sealer killed mid-batch: test/proof-crash-sealer.test.ts; entries
// chained before the sealer existed: test/shop-audit-legacy.test.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eq, like, sql } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { rows, type Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import { auditSealer, planSeal, sealAll, writeSeal } from '../src/shop/audit/sealer.ts';
import { verifyShopAudit } from '../src/shop/audit/verify.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit, GENESIS, verifyAuditChain } from '../src/shop/storage/audit.ts';
import { auditChainTip, auditLog } from '../src/shop/storage/tables.ts';
import { tamper } from './support/audit.ts';

const log = createLogger('test', 'silent');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const refused = (e: unknown) =>
  /append-only|sealed|sealing/.test(`${(e as Error).message} ${(e as { cause?: Error }).cause?.message ?? ''}`);

/** Positions, hashes and versions of every entry, by position; asserts that each is sealed once at 1..n. */
async function assertSealedContiguous(database: Database): Promise<number> {
  const [stats] = await rows<{ n: number; sealed: number; positions: number; lo: number | null; hi: number | null }>(
    database.db,
    sql`select count(*)::int as n, count(hash)::int as sealed, count(distinct chain_pos)::int as positions,
               min(chain_pos)::int as lo, max(chain_pos)::int as hi from audit_log`,
  );
  assert.equal(stats!.sealed, stats!.n, 'every committed entry is sealed');
  assert.equal(stats!.positions, stats!.n, 'each at its own position');
  if (stats!.n > 0) assert.deepEqual([stats!.lo, stats!.hi], [1, stats!.n], 'positions contiguous from 1');
  return stats!.n;
}

for (const engine of testEngines()) {
  describe(`the audit sealer on ${engine}`, () => {
    const open: Database[] = [];
    after(async () => Promise.all(open.map((d) => d.close())));
    async function fresh(): Promise<Database> {
      const database = await freshDatabase(shopDatabaseSpec, engine);
      open.push(database);
      return database;
    }
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));

    it('seals every committed entry exactly once, at contiguous positions, while transactions race to append (some rolling back)', async () => {
      const database = await fresh();
      const sealer = auditSealer({ database, log, intervalMs: 5, batch: 16 });
      sealer.start();
      const writers = 6;
      const perWriter = engine === 'postgres' ? 40 : 15;
      let committed = 0;
      let sealedMeanwhile = 0;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            const entries = 1 + ((w + i) % 3);
            const rollBack = (w * perWriter + i) % 5 === 0;
            await database
              .transaction(async (tx) => {
                for (let k = 0; k < entries; k++) {
                  const subject = `${rollBack ? 'rolled' : 'race'}_${w}_${i}_${k}`;
                  await appendAudit(
                    tx,
                    { actor: 'test', action: 'race.append', subject, data: { w, i, k } },
                    clock.now(),
                  );
                }
                // Commits land in another order than the seqs were taken.
                await tx.execute(sql`select ${w}::int`);
                if ((w + i) % 4 === 0) await pause(1 + ((w * 7 + i) % 4));
                if (rollBack) throw new Error('rolled back on purpose');
              })
              .then(
                () => (committed += entries),
                (err: unknown) => assert.match((err as Error).message, /on purpose/),
              );
          }
          if (w === 0) {
            const [n] = await rows<{ n: number }>(database.db, sql`select count(hash)::int as n from audit_log`);
            sealedMeanwhile = n!.n;
          }
        }),
      );
      await sealer.stop();
      assert.ok(sealedMeanwhile > 0, 'the sealer sealed while the appends ran');
      assert.equal(await assertSealedContiguous(database), committed);
      const [rolled] = await rows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from audit_log where subject like 'rolled_%'`,
      );
      assert.equal(rolled!.n, 0, 'no entry of a rolled-back transaction');
      assert.equal(await verifyAuditChain(database.db), null);
      const verdict = await verifyShopAudit(database, [], { now: clock.now() });
      assert.ok(verdict.ok, JSON.stringify(verdict));
      assert.equal(verdict.count, committed);
      assert.equal(verdict.unsealed.count, 0);
      // A transaction's entries keep the order they were appended in (its commit makes them visible
      // together; the sealer takes what is visible in seq order, a batch boundary may fall between them).
      const race = await database.db.select().from(auditLog).where(like(auditLog.subject, 'race_%'));
      const byTx = new Map<string, Array<{ k: number; pos: number }>>();
      for (const e of race) {
        const key = e.subject.split('_').slice(1, 3).join('_');
        byTx.set(key, [...(byTx.get(key) ?? []), { k: Number(e.subject.split('_')[3]), pos: e.chainPos! }]);
      }
      for (const [key, entries] of byTx) {
        entries.sort((a, b) => a.pos - b.pos);
        assert.deepEqual(
          entries.map((e) => e.k),
          entries.map((_, i) => i),
          `transaction ${key}: its entries in the order appended`,
        );
      }
    });

    const appendEach = async (database: Database, subjects: readonly string[]) => {
      for (const subject of subjects)
        await database.transaction((tx) => appendAudit(tx, { actor: 't', action: 'x', subject }, clock.now()));
    };
    const chainEnd = async (database: Database) => {
      const [end] = await database.db.select().from(auditChainTip);
      return end && { pos: end.pos, hash: end.hash };
    };

    it('of two sealers that read the same end, the one that writes second writes nothing; the chain goes on from the first', async () => {
      const database = await fresh();
      // An entry whose seq was taken first but which commits after the first sealer read: the two
      // sealers see different batches from the same end.
      const [{ early } = { early: 0 }] = await rows<{ early: number }>(
        database.db,
        sql`select nextval(pg_get_serial_sequence('audit_log', 'seq'))::int as early`,
      );
      await appendEach(database, ['b']);
      const first = await planSeal(database);
      await database.db
        .insert(auditLog)
        .values({ seq: early, id: 'aud_early', at: clock.now(), actor: 't', action: 'x', subject: 'a', data: {} });
      const second = await planSeal(database);
      assert.deepEqual(
        [first, second].map((p) => p!.entries.map((e) => [e.seq, e.pos])),
        [
          [[early + 1, 1]],
          [
            [early, 1],
            [early + 1, 2],
          ],
        ],
      );
      assert.equal(await writeSeal(database, second!), 2);
      assert.equal(await writeSeal(database, first!), 'lost', 'its end moved: nothing written');
      assert.equal(await assertSealedContiguous(database), 2);
      const [last] = await database.db.select().from(auditLog).where(eq(auditLog.chainPos, 2));
      assert.deepEqual(await chainEnd(database), { pos: 2, hash: last!.hash }, 'the end is the last sealed entry');
      await appendEach(database, ['c']);
      assert.equal(await sealAll(database), 1);
      assert.equal(await assertSealedContiguous(database), 3);
      assert.equal(await verifyAuditChain(database.db), null);
    });

    it('writes nothing when an entry of its batch was sealed without moving the end, and says so', async () => {
      const database = await fresh();
      await appendEach(database, ['a', 'b', 'c']);
      const plan = await planSeal(database);
      // Sealed behind the sealer's back (the trigger allows sealing an unsealed entry); the end stays.
      await database.db
        .update(auditLog)
        .set({ chainPos: 1000, chainVersion: 2, prevHash: GENESIS, hash: 'f'.repeat(64) })
        .where(eq(auditLog.seq, plan!.entries[1]!.seq));
      await assert.rejects(writeSeal(database, plan!));
      const [c] = await rows<{ sealed: number }>(database.db, sql`select count(hash)::int as sealed from audit_log`);
      assert.equal(c!.sealed, 1, 'only the entry sealed behind its back');
      assert.deepEqual(await chainEnd(database), { pos: 0, hash: GENESIS }, 'the end did not move');
    });

    it('three sealers racing over the same entries seal each once, in one chain', async () => {
      const database = await fresh();
      const n = engine === 'postgres' ? 120 : 40;
      await appendEach(
        database,
        Array.from({ length: n }, (_, i) => `r${i}`),
      );
      const sealed = await Promise.all([sealAll(database, 7), sealAll(database, 7), sealAll(database, 7)]);
      assert.equal(
        sealed.reduce((a, b) => a + b, 0),
        n,
        `each entry counted by the one sealer that sealed it (${sealed})`,
      );
      assert.equal(await assertSealedContiguous(database), n);
      assert.equal(await verifyAuditChain(database.db), null);
      assert.equal((await chainEnd(database))!.pos, n);
    });

    it('refuses in the database to reseal, edit or delete a sealed entry, or to change an unsealed one but by sealing it', async () => {
      const database = await fresh();
      for (const subject of ['a', 'b']) {
        await database.transaction((tx) => appendAudit(tx, { actor: 't', action: 'x', subject }, clock.now()));
      }
      assert.equal(await sealAll(database), 2);
      await database.transaction((tx) => appendAudit(tx, { actor: 't', action: 'x', subject: 'c' }, clock.now()));
      const [a, , c] = await database.db.select().from(auditLog).orderBy(auditLog.seq);
      await assert.rejects(database.db.update(auditLog).set({ action: 'y' }).where(eq(auditLog.id, a!.id)), refused);
      await assert.rejects(
        database.db
          .update(auditLog)
          .set({ chainPos: 9, hash: 'f'.repeat(64) })
          .where(eq(auditLog.id, a!.id)),
        refused,
      );
      await assert.rejects(database.db.delete(auditLog).where(eq(auditLog.id, a!.id)), refused);
      await assert.rejects(database.db.delete(auditLog).where(eq(auditLog.id, c!.id)), refused);
      await assert.rejects(database.db.update(auditLog).set({ subject: 'd' }).where(eq(auditLog.id, c!.id)), refused);
      assert.equal(await sealAll(database), 1);
      assert.equal(await assertSealedContiguous(database), 3);
      assert.equal(await verifyAuditChain(database.db), null);
    });

    it('names a sealed entry edited, deleted, or two swapped by position or by content', async () => {
      const database = await fresh();
      for (let i = 0; i < 6; i++) {
        await database.transaction((tx) =>
          appendAudit(tx, { actor: 't', action: 'x', subject: `s${i}`, data: { i } }, clock.now()),
        );
      }
      await sealAll(database);
      const entries = await database.db.select().from(auditLog).orderBy(auditLog.chainPos);
      const [, e2, e3, e4] = entries;
      // Three steps: the unique index on the position refuses a duplicate even within one statement.
      const swap = async (p: number, q: number) => {
        await database.db.update(auditLog).set({ chainPos: -1 }).where(eq(auditLog.chainPos, p));
        await database.db.update(auditLog).set({ chainPos: p }).where(eq(auditLog.chainPos, q));
        await database.db.update(auditLog).set({ chainPos: q }).where(eq(auditLog.chainPos, -1));
      };
      const cases: Array<[string, () => Promise<unknown>, () => Promise<unknown>, number]> = [
        [
          'edited',
          () => database.db.update(auditLog).set({ subject: 'other' }).where(eq(auditLog.id, e3!.id)),
          () => database.db.update(auditLog).set({ subject: e3!.subject }).where(eq(auditLog.id, e3!.id)),
          3,
        ],
        [
          'deleted',
          () => database.db.delete(auditLog).where(eq(auditLog.id, e3!.id)),
          () => database.db.insert(auditLog).values(e3!),
          4,
        ],
        ['swapped by position', () => swap(2, 3), () => swap(2, 3), 2],
        [
          'swapped by content',
          async () => {
            await database.db
              .update(auditLog)
              .set({ subject: e4!.subject, data: e4!.data })
              .where(eq(auditLog.id, e2!.id));
            await database.db
              .update(auditLog)
              .set({ subject: e2!.subject, data: e2!.data })
              .where(eq(auditLog.id, e4!.id));
          },
          async () => {
            await database.db
              .update(auditLog)
              .set({ subject: e2!.subject, data: e2!.data })
              .where(eq(auditLog.id, e2!.id));
            await database.db
              .update(auditLog)
              .set({ subject: e4!.subject, data: e4!.data })
              .where(eq(auditLog.id, e4!.id));
          },
          2,
        ],
      ];
      for (const [what, change, undo, at] of cases) {
        await tamper(database, change);
        assert.equal(await verifyAuditChain(database.db), at, what);
        const verdict = await verifyShopAudit(database);
        assert.ok(!verdict.ok && verdict.broken.seq === at, `${what}: ${JSON.stringify(verdict)}`);
        await tamper(database, undo);
        assert.equal(await verifyAuditChain(database.db), null, `${what} undone`);
      }
    });

    it('reads when entries committed here, once for all committed meanwhile, and not while nothing was', async () => {
      const database = await fresh();
      // Count the sealer's reads of unsealed entries: its statements do not run in a transaction, so
      // they go through the client's own query().
      const client = database.raw as unknown as { query: (...args: unknown[]) => unknown };
      const query = client.query.bind(client);
      let reads = 0;
      // While set, the sealer's reads wait for it before they are sent: commits then land during a pass
      // whatever the machine's speed, which is the case the burst below is about.
      let hold: Promise<unknown> | undefined;
      client.query = (...args: unknown[]) => {
        const q = args[0] as string | { text?: string };
        if (!/^select .*audit_chain_tip/s.test(typeof q === 'string' ? q : (q.text ?? ''))) return query(...args);
        reads++;
        return hold ? hold.then(() => query(...args)) : query(...args);
      };
      // The idle poll is a minute away: only the news of a commit makes it read within this test.
      const sealer = auditSealer({ database, log, intervalMs: 20, idleIntervalMs: 60_000 });
      sealer.start();
      try {
        await pause(150);
        assert.equal(reads, 0, 'no reads while nothing was committed');
        await appendEach(database, ['one']);
        const unsealed = async () =>
          (await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log where hash is null`))[0]!
            .n;
        const sealedSoon = async () => {
          for (const end = Date.now() + 10_000; Date.now() < end && (await unsealed()) > 0; ) await pause(10);
          return unsealed();
        };
        assert.equal(await sealedSoon(), 0, 'the committed entry is sealed without waiting for the idle poll');
        await pause(150);
        assert.equal(reads, 1, 'one read for one commit, none after it');
        // A transaction rolled back announces nothing.
        await database
          .transaction(async (tx) => {
            await appendAudit(tx, { actor: 't', action: 'x', subject: 'gone' }, clock.now());
            throw new Error('roll back');
          })
          .catch(() => undefined);
        await pause(150);
        assert.equal(reads, 1, 'a rolled-back append brings no read');
        // Ten commits in a burst, the pass the first one brings held until all ten are in: that pass
        // seals all ten and one more read sees the news that came during it; not one read each.
        const burst = Promise.all(Array.from({ length: 10 }, (_, i) => appendEach(database, [`burst-${i}`])));
        hold = burst;
        await burst;
        assert.equal(await sealedSoon(), 0);
        hold = undefined;
        await pause(100);
        assert.ok(reads - 1 <= 2, `${reads - 1} reads for a burst of ten commits`);
      } finally {
        await sealer.stop();
        client.query = query;
      }
      assert.equal(await assertSealedContiguous(database), 11);
    });

    it('reports entries left unsealed past the threshold as a sealer not running, not as a break', async () => {
      const database = await fresh();
      await database.transaction((tx) => appendAudit(tx, { actor: 't', action: 'x', subject: 'sealed' }, clock.now()));
      await sealAll(database);
      const at = clock.now();
      for (const subject of ['u1', 'u2']) {
        await database.transaction((tx) => appendAudit(tx, { actor: 't', action: 'x', subject }, at));
      }
      const fresh59 = await verifyShopAudit(database, [], { now: new Date(at.getTime() + 59_000), staleSeconds: 60 });
      assert.ok(fresh59.ok);
      assert.equal(fresh59.count, 1);
      assert.deepEqual([fresh59.unsealed.count, fresh59.unsealed.stale], [2, 0]);
      const late = await verifyShopAudit(database, [], { now: new Date(at.getTime() + 61_000), staleSeconds: 60 });
      assert.ok(late.ok, 'unsealed entries are not a broken chain');
      assert.deepEqual([late.unsealed.count, late.unsealed.stale], [2, 2]);
      assert.equal(late.unsealed.oldest?.at.getTime(), at.getTime());
      assert.equal(await sealAll(database), 2);
      const sealed = await verifyShopAudit(database, [], { now: new Date(at.getTime() + 61_000), staleSeconds: 60 });
      assert.ok(sealed.ok);
      assert.deepEqual([sealed.count, sealed.unsealed.count], [3, 0]);
    });
  });
}
