// Proof suite "adversarial", the audit log: someone with the shop database's owner rights (the
// append-only trigger off) tries to make history disappear without the verifier noticing. The shop's
// recurring checkpoint has anchored the chain outside the database; then each case cuts the last
// entries, empties the log, removes an entry and rehashes the whole chain from scratch, edits an
// entry, or forges, edits or drops the newest checkpoint line, on its own copy of the database on
// real PostgreSQL. The verifier must refuse every one; an "OK" is a wrongly accepted attack.
// Reports as suite 'adversarial' (scripts/proof.mjs sums the reports of the suite's files).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { asc, eq, gt } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import { checkpointFile } from '../src/shop/audit/checkpoint-file.ts';
import { newAuditSigningKey, parseAuditPrivateKey, signCheckpoint } from '../src/shop/audit/checkpoint.ts';
import { writeAuditCheckpoint } from '../src/shop/audit/checkpointer.ts';
import { sealAll } from '../src/shop/audit/sealer.ts';
import { verifyAuditCommand } from '../src/shop/audit/verify-command.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { appendAudit, GENESIS } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';
import { adminQuery, rehashChain, tamper } from './support/audit.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);
const SIGNING_KEY = newAuditSigningKey();

/** One attack: what it does to the copy's database and checkpoint file. */
interface Attack {
  readonly name: string;
  readonly run: (database: Database, file: string, seqs: readonly number[]) => Promise<void>; // seqs: chain positions
}

const lastLine = (file: string) =>
  JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as {
    seq: number;
    hash: string;
    count: number;
    at: string;
  };
const replaceLastLine = (file: string, line: string) => {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  writeFileSync(file, `${[...lines.slice(0, -1), line].filter(Boolean).join('\n')}\n`);
};

const ATTACKS: readonly Attack[] = [
  {
    name: 'cut the last entries after the checkpoint',
    run: (db, _f, seqs) =>
      tamper(db, () =>
        db.db
          .delete(auditLog)
          .where(gt(auditLog.chainPos, seqs[seqs.length - 1 - (1 + random.int(Math.min(5, seqs.length - 1)))]!)),
      ),
  },
  { name: 'empty the audit log', run: (db) => tamper(db, () => db.db.delete(auditLog)) },
  {
    name: 'remove one entry and rehash the whole chain from the first entry',
    run: (db, _f, seqs) =>
      tamper(db, async () => {
        await db.db.delete(auditLog).where(eq(auditLog.chainPos, seqs[random.int(seqs.length)]!));
        await rehashChain(db);
      }),
  },
  {
    name: 'edit one entry and rehash the whole chain',
    run: (db, _f, seqs) =>
      tamper(db, async () => {
        await db.db
          .update(auditLog)
          .set({ data: { edited: true } })
          .where(eq(auditLog.chainPos, seqs[random.int(seqs.length)]!));
        await rehashChain(db);
      }),
  },
  {
    name: 'cut the last entries and lower the newest checkpoint to match (no key)',
    run: async (db, file, seqs) => {
      const keep = seqs.length - 2;
      await tamper(db, () => db.db.delete(auditLog).where(gt(auditLog.chainPos, seqs[keep - 1]!)));
      const [tip] = await db.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.chainPos, seqs[keep - 1]!));
      replaceLastLine(file, JSON.stringify({ ...lastLine(file), seq: tip!.chainPos!, hash: tip!.hash, count: keep }));
    },
  },
  {
    name: 'cut the last entries and sign a matching checkpoint with a key of its own',
    run: async (db, file, seqs) => {
      const keep = seqs.length - 3;
      await tamper(db, () => db.db.delete(auditLog).where(gt(auditLog.chainPos, seqs[keep - 1]!)));
      const [tip] = await db.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.chainPos, seqs[keep - 1]!));
      replaceLastLine(
        file,
        signCheckpoint(parseAuditPrivateKey(newAuditSigningKey()), {
          seq: tip!.chainPos!,
          hash: tip!.hash!,
          count: keep,
          at: lastLine(file).at,
        }),
      );
    },
  },
  {
    name: 'rehash the chain from scratch and replace every checkpoint with one of the genesis',
    run: async (db, file) => {
      await tamper(db, () => rehashChain(db));
      writeFileSync(file, `${JSON.stringify({ ...lastLine(file), seq: 0, hash: GENESIS, count: 0 })}\n`);
    },
  },
];

describe('adversarial: the audit log cannot be cut or rewritten unnoticed', () => {
  const clock = fakeClock(Date.UTC(2026, 2, 1, 9));
  const dir = mkdtempSync(join(tmpdir(), 'cs-proof-audit-'));
  const failures: ProofFailure[] = [];
  let baseName = '';
  let seqs: number[] = [];
  let cases = 0;
  let wronglyAccepted = 0;
  const rounds = sized(1, 4);

  before(async () => {
    baseName = await freshPostgresDatabaseName(shopDatabaseSpec);
    const database = await openDatabase(shopDatabaseSpec, {
      engine: 'postgres',
      url: databaseUrl(baseName),
      poolSize: 2,
    });
    const entries = 8 + random.int(sized(8, 60));
    for (let i = 0; i < entries; i++) {
      await database.transaction((tx) =>
        appendAudit(
          tx,
          {
            actor: `usr_${random.int(5)}`,
            action: random.pick(['order.placed', 'invoice.pay', 'refund.requested']),
            subject: `ord_${i}`,
            data: { i },
          },
          clock.now(),
        ),
      );
      clock.advance(1000 + random.int(60_000));
    }
    // What the shop's sealer does moments after the commits: the checkpoint anchors the sealed tip.
    await sealAll(database);
    assert.equal(
      (
        await writeAuditCheckpoint({
          database,
          clock,
          dir: join(dir, 'base'),
          signingKey: parseAuditPrivateKey(SIGNING_KEY),
        })
      ).kind,
      'written',
    );
    seqs = (await database.db.select({ pos: auditLog.chainPos }).from(auditLog).orderBy(asc(auditLog.chainPos))).map(
      (r) => r.pos!,
    );
    await database.close();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases,
      wronglyAccepted,
      lost: 0,
      doubleFulfilled: 0,
      recovered: 0,
      failures,
      figures: { cases, refusedCleanly: cases - wronglyAccepted, auditCases: cases },
    });
  });

  /** A copy of the anchored shop: its own database and checkpoint file, and the env that points the verifier at them. */
  async function copy(label: string) {
    const name = `t_proof_audit_${cases}_${random.int(1e9)}`;
    await adminQuery(`create database ${name} template ${baseName}`);
    const checkpointDir = join(dir, label);
    cpSync(join(dir, 'base'), checkpointDir, { recursive: true });
    const env = {
      SHOP_DATABASE_URL: databaseUrl(name),
      SHOP_AUDIT_CHECKPOINT_DIR: checkpointDir,
      SHOP_AUDIT_SIGNING_KEY: SIGNING_KEY,
    };
    return {
      env,
      file: checkpointFile(checkpointDir),
      database: await openDatabase(shopDatabaseSpec, { engine: 'postgres', url: env.SHOP_DATABASE_URL, poolSize: 1 }),
    };
  }

  it('the untouched copy verifies (the cases below start from an intact, anchored chain)', async () => {
    const { env, database } = await copy('intact');
    await database.close();
    const lines: string[] = [];
    assert.equal(await verifyAuditCommand([], env, (l) => lines.push(l)), 0, `${lines.join('\n')}\n${hint}`);
  });

  it('refuses every attack on the log or its checkpoints', async () => {
    for (let round = 0; round < rounds; round++) {
      for (const attack of random.shuffle(ATTACKS)) {
        const { env, file, database } = await copy(`case-${cases}`);
        try {
          await attack.run(database, file, seqs);
        } finally {
          await database.close();
        }
        cases++;
        const lines: string[] = [];
        const code = await verifyAuditCommand([], env, (l) => lines.push(l));
        if (code !== 1) {
          wronglyAccepted++;
          failures.push({ case: attack.name, detail: `verifier exit ${code}: ${lines.join(' | ')}` });
        }
      }
    }
    assert.deepEqual(failures, [], hint);
  });
});
