// Crash matrix, the audit sealer (one of the crash files, reporting as suite "crash"): the sealer runs
// in its own process (test/support/sealer-process.ts) and is killed with SIGKILL mid-seal (crash point
// 'shop.audit.before_seal_commit': the batch's positions and hashes made, not yet written) and at
// random moments (a kill while the sealing statement runs leaves its batch whole or not at all), again
// and again, while transactions keep appending (some rolling back). After every kill the sealed chain
// is whole (positions 1..n, every link holds); a restarted sealer seals the rest; in the end every
// committed entry is sealed exactly once, none rolled back is there, and `countersign audit verify`
// finds the chain intact with nothing waiting.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDatabase, rows, type Database } from '../src/platform/db/database.ts';
import { SEAL_BATCH } from '../src/shop/audit/sealer.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit, verifyAuditChain } from '../src/shop/storage/audit.ts';
import { proofRandom, proofSeed, proofSize, recordProof, replayHint, sized } from './support/proof.ts';
import { verifyInProcess } from './support/audit.ts';
import { tempDir } from './support/temp-dir.ts';
import { projectRoot } from '../src/platform/project-root.ts';

const ROOT = projectRoot();
const SCRIPT = join(ROOT, 'test/support/sealer-process.ts');
const POINT = 'shop.audit.before_seal_commit';
const BATCH = 7; // the child's batch size
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<string>;
}

const alive = new Set<ChildProcess>();

function spawnSealer(url: string, crashAt?: string, batch?: number): Child {
  const env = { ...process.env, LOG_LEVEL: 'warn' } as Record<string, string>;
  delete env.COUNTERSIGN_CRASH_AT;
  if (crashAt) env.COUNTERSIGN_CRASH_AT = crashAt;
  if (batch) env.COUNTERSIGN_SEAL_BATCH = String(batch);
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, url], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  alive.add(child);
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => {
      alive.delete(child);
      resolve(signal ?? String(code));
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ready"')) resolve();
    });
    void exited.then((how) => reject(new Error(`the sealer exited (${how}) before it was ready`)));
  });
  return { process: child, ready, exited };
}

async function counts(database: Database) {
  const [c] = await rows<{ n: number; sealed: number; positions: number; hi: number | null; rolled: number }>(
    database.db,
    sql`select count(*)::int as n, count(hash)::int as sealed, count(distinct chain_pos)::int as positions,
               max(chain_pos)::int as hi, (count(*) filter (where subject like 'rolled_%'))::int as rolled from audit_log`,
  );
  return c!;
}

/** The sealed part is whole: positions 1..sealed, each once, every link holding. */
async function assertSealedWhole(database: Database, when: string): Promise<number> {
  const c = await counts(database);
  assert.equal(c.positions, c.sealed, `${when}: each sealed entry at its own position`);
  assert.equal(c.hi ?? 0, c.sealed, `${when}: positions contiguous from 1`);
  assert.equal(await verifyAuditChain(database.db), null, `${when}: the chain links up`);
  return c.sealed;
}

describe('crash matrix: the audit sealer killed mid-batch', () => {
  const seed = proofSeed();
  const random = proofRandom(seed);
  let database: Database;
  let url: string;
  let committed = 0;
  let seq = 0;
  before(async () => {
    url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url, poolSize: 6 });
  });
  after(async () => {
    for (const child of alive) child.kill('SIGKILL');
    await database?.close();
  });

  /** One business transaction appending 1–3 entries; one in five rolls back. */
  async function append(): Promise<void> {
    const n = ++seq;
    const entries = 1 + (n % 3);
    const rollBack = n % 5 === 0;
    await database
      .transaction(async (tx) => {
        for (let k = 0; k < entries; k++) {
          const subject = `${rollBack ? 'rolled' : 'ok'}_${n}_${k}`;
          await appendAudit(tx, { actor: 'test', action: 'crash.append', subject, data: { n, k } }, new Date());
        }
        if (rollBack) throw new Error('rolled back on purpose');
      })
      .then(
        () => (committed += entries),
        (err: unknown) => assert.match((err as Error).message, /on purpose/),
      );
  }

  it('rolls back the batch of a sealer killed before its commit, and keeps what earlier batches sealed', async () => {
    for (let i = 0; i < 12; i++) await append();
    const before = await counts(database);
    assert.ok(before.n - before.sealed > 2 * BATCH, 'enough waiting for two batches');
    const first = spawnSealer(url, `${POINT}@1`);
    assert.equal(await first.exited, 'SIGKILL', 'killed inside its first sealing transaction');
    assert.equal(await assertSealedWhole(database, 'after a kill in batch 1'), before.sealed, 'nothing sealed');
    const second = spawnSealer(url, `${POINT}@2`);
    assert.equal(await second.exited, 'SIGKILL', 'killed inside its second sealing transaction');
    assert.equal(
      await assertSealedWhole(database, 'after a kill in batch 2'),
      before.sealed + BATCH,
      'exactly the first batch sealed',
    );
  });

  it('loses, doubles and reorders nothing over repeated kills while appends continue, and a restarted sealer completes', async () => {
    const rounds = sized(8, 40);
    let stop = false;
    const writers = Array.from({ length: 3 }, async () => {
      while (!stop) {
        await append();
        await pause(random.int(4));
      }
    });
    let kills = 0;
    try {
      for (let round = 0; round < rounds; round++) {
        const atPoint = round % 2 === 0;
        const child = spawnSealer(url, atPoint ? `${POINT}@${1 + random.int(4)}` : undefined);
        if (!atPoint) {
          await child.ready;
          await pause(20 + random.int(150));
          child.process.kill('SIGKILL');
        }
        assert.equal(await child.exited, 'SIGKILL', `round ${round} ${replayHint('crash', seed)}`);
        kills += 1;
        await assertSealedWhole(database, `round ${round}`);
      }
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    // Restarted as a shop node runs it (its default batch), not with the small batches that make kills
    // land mid-batch: at full size the backlog left by 40 killed sealers is thousands of entries.
    const last = spawnSealer(url, undefined, SEAL_BATCH);
    await last.ready;
    const deadline = Date.now() + 30_000;
    for (let c = await counts(database); c.sealed < c.n; c = await counts(database)) {
      assert.ok(Date.now() < deadline, 'the restarted sealer seals everything within 30 s');
      await pause(50);
    }
    last.process.kill('SIGKILL');
    await last.exited;
    const end = await counts(database);
    const lost = Math.max(0, committed - end.sealed);
    const doubled = Math.max(0, end.sealed - end.positions);
    recordProof({
      suite: 'crash',
      size: proofSize(),
      seed,
      cases: kills + 2,
      wronglyAccepted: end.rolled,
      lost,
      doubleFulfilled: doubled,
      recovered: kills + 2,
      failures: [],
      figures: { sealerKills: kills + 2, auditEntriesSealed: end.sealed },
    });
    assert.equal(end.n, committed, 'every committed entry is there, none more');
    assert.equal(end.rolled, 0, 'no entry of a rolled-back transaction');
    assert.equal(await assertSealedWhole(database, 'at the end'), committed, 'every committed entry sealed once');
    const verdict = await verifyInProcess({ SHOP_DATABASE_URL: url, DATA_DIR: tempDir('cs-seal-') }, [
      '--allow-no-checkpoint',
    ]);
    assert.equal(verdict.code, 0, verdict.out);
    assert.match(verdict.out, new RegExp(`^OK: audit chain intact, ${committed} entries`, 'm'));
    assert.doesNotMatch(verdict.out, /not sealed yet|PROBLEM/);
  });
});
