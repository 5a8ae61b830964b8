// The shop anchors its audit chain: with SHOP_AUDIT_SIGNING_KEY set, its recurring job appends a
// signed checkpoint of the tip to the file in SHOP_AUDIT_CHECKPOINT_DIR, and its clean stop writes a
// last one, so the verifier accepts the chain as it was left and names entries cut from its end. The
// checkpointer never signs a chain that no longer holds the last checkpoint.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { count, desc, eq } from 'drizzle-orm';
import { eventually } from '../src/gateway/testing.ts';
import { systemClock } from '../src/platform/clock.ts';
import { ConfigError } from '../src/platform/config.ts';
import { openDatabase, type DatabaseLocation } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName, testEngines } from '../src/platform/db/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import { readCheckpointLines } from '../src/shop/audit/checkpoint-file.ts';
import {
  checkCheckpointLine,
  newAuditSigningKey,
  parseAuditPrivateKey,
  type Checkpoint,
} from '../src/shop/audit/checkpoint.ts';
import { writeAuditCheckpoint } from '../src/shop/audit/checkpointer.ts';
import { loadShopConfig, shopDatabaseSpec, startShop } from '../src/shop/main.ts';
import { appendAudit } from '../src/shop/storage/audit.ts';
import { auditLog } from '../src/shop/storage/tables.ts';
import { verifyAuditCommand } from '../src/shop/audit/verify-command.ts';
import { tamper } from './support/audit.ts';

const SIGNING_KEY = newAuditSigningKey();

async function checkpoints(dir: string): Promise<Checkpoint[]> {
  const key = parseAuditPrivateKey(SIGNING_KEY);
  return ((await readCheckpointLines(dir)) ?? []).map((l) => {
    const checked = checkCheckpointLine(l.text, key);
    assert.ok(checked.ok, `line ${l.line} verifies`);
    return checked.checkpoint;
  });
}

describe("the shop's audit checkpoint configuration", () => {
  it('refuses to start with a SHOP_AUDIT_SIGNING_KEY that is not an Ed25519 private key, naming it without echoing it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    for (const bad of ['not-a-key', rsa]) {
      assert.throws(
        () => loadShopConfig({ SHOP_SESSION_SECRET: 'x'.repeat(40), SHOP_AUDIT_SIGNING_KEY: bad }),
        (e) =>
          e instanceof ConfigError &&
          /SHOP_AUDIT_SIGNING_KEY: must be an Ed25519 private key/.test(e.message) &&
          !e.message.includes(bad.slice(0, 12)),
      );
    }
    assert.equal(
      loadShopConfig({ SHOP_SESSION_SECRET: 'x'.repeat(40), DATA_DIR: '/srv/shop' }).audit.dir,
      join('/srv/shop', 'audit-checkpoints'),
    );
    assert.equal(loadShopConfig({ SHOP_SESSION_SECRET: 'x'.repeat(40) }).audit.everySeconds, 60);
  });
});

for (const engine of testEngines()) {
  describe(`the shop's audit checkpoints on ${engine}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-audit-shop-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('writes a checkpoint every SHOP_AUDIT_CHECKPOINT_SECONDS and at a clean stop; refuses to sign a cut chain', async () => {
      const checkpointDir = join(dir, 'checkpoints');
      const place: Record<string, string> =
        engine === 'pglite'
          ? { SHOP_DATA_DIR: join(dir, 'shop') }
          : { SHOP_DATABASE_URL: databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec)) };
      const env = { ...place, SHOP_AUDIT_SIGNING_KEY: SIGNING_KEY, SHOP_AUDIT_CHECKPOINT_DIR: checkpointDir };
      const shop = await startShop(
        loadShopConfig({
          ...env,
          SHOP_PORT: '0',
          SHOP_SESSION_SECRET: 'audit-checkpoint-secret'.padEnd(40, 'x'),
          LOG_LEVEL: 'silent',
          SHOP_AUDIT_CHECKPOINT_SECONDS: '1',
          SHOP_JOB_POLL_MS: '50',
        }),
        { log: createLogger('shop', 'silent') },
      );
      const entries = async () => (await shop.database.db.select({ n: count() }).from(auditLog))[0]!.n;
      const audit = (subject: string) =>
        shop.database.transaction((tx) =>
          appendAudit(tx, { actor: 'usr_test', action: 'order.placed', subject }, systemClock.now()),
        );
      try {
        await audit('ord_a');
        const n = await entries();
        // The recurring job catches up with the new tip within its period.
        const byJob = await eventually(
          async () => (await checkpoints(checkpointDir)).find((c) => c.count === n),
          20_000,
          'a checkpoint of the tip by the recurring job',
        );
        const [tip] = await shop.database.db.select().from(auditLog).orderBy(desc(auditLog.chainPos)).limit(1);
        assert.deepEqual({ seq: byJob.seq, hash: byJob.hash }, { seq: tip!.chainPos, hash: tip!.hash });
        await audit('ord_b');
        await audit('ord_c');
      } finally {
        await shop.stop();
      }
      const last = (await checkpoints(checkpointDir)).at(-1)!;
      const location: DatabaseLocation =
        engine === 'pglite'
          ? { engine: 'pglite', dataDir: place.SHOP_DATA_DIR! }
          : { engine: 'postgres', url: place.SHOP_DATABASE_URL!, poolSize: 1 };
      let database = await openDatabase(shopDatabaseSpec, location);
      assert.equal(
        last.count,
        (await database.db.select({ n: count() }).from(auditLog))[0]!.n,
        'the stop anchored every entry',
      );
      await database.close();

      const lines: string[] = [];
      assert.equal(await verifyAuditCommand([], env, (l) => lines.push(l)), 0, lines.join('\n'));
      assert.match(
        lines.join('\n'),
        new RegExp(`OK: audit chain intact, ${last.count} entries .*; 0 entries since are not anchored yet`),
      );

      // Someone cuts the last entry: the next checkpoint is refused, so the cut is never signed over.
      database = await openDatabase(shopDatabaseSpec, location);
      await tamper(database, () => database.db.delete(auditLog).where(eq(auditLog.chainPos, last.seq)));
      const outcome = await writeAuditCheckpoint({
        database,
        clock: systemClock,
        dir: checkpointDir,
        signingKey: parseAuditPrivateKey(SIGNING_KEY),
      });
      assert.deepEqual(outcome, {
        kind: 'refused',
        reason: `entry #${last.seq} of the last checkpoint is gone (the chain was cut)`,
      });
      await database.close();
      assert.equal((await checkpoints(checkpointDir)).at(-1)!.seq, last.seq, 'no checkpoint was added');
      lines.length = 0;
      assert.equal(await verifyAuditCommand([], env, (l) => lines.push(l)), 1, lines.join('\n'));
      assert.match(lines.join('\n'), /BROKEN: truncated: /);
    });
  });
}
