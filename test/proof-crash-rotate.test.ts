// Crash matrix for webhook-secret rotation: the shop killed with SIGKILL at
// 'shop.rotate_secret.after_gateway' (the gateway made the new secret and answered it; the shop has
// not stored it). Without care the gateway would sign with a secret the shop never learns, and after
// the overlap every delivery would be refused. The shop recorded the rotation's Idempotency-Key
// before asking, so the next `countersign secrets rotate` asks again with that key: the gateway
// replays the same secret (it makes no second one), the shop keeps it, and payments are accepted.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { countersign } from './support/cli.ts';
import { deliveredFirstTime } from './support/deliveries.ts';
import { assertVerdict, convergence } from './support/proof-crash-invariants.ts';
import { startPartyProcesses, type PartyProcesses } from './support/harness/processes.ts';
import { proofSeed, proofSize, recordProof } from './support/proof.ts';

const sha8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

describe('crash: the shop dies between the gateway rotating its secret and the shop keeping it', () => {
  let system: PartyProcesses;
  let env: Record<string, string>;
  const operatorToken = `ops_${randomBytes(32).toString('base64url')}`;
  const figures = { secretsMade: 0, secretsLearnt: 0, recovered: 0 };
  before(async () => {
    system = await startPartyProcesses({ SHOP_OPERATOR_TOKEN: operatorToken });
    env = {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_SHOP_URL: system.urls.shop,
      COUNTERSIGN_BANK_URL: system.urls.bank,
      COUNTERSIGN_API_KEY: system.apiKey,
      COUNTERSIGN_OPERATOR_TOKEN: operatorToken,
      DATA_DIR: '/nonexistent-countersign-data',
    };
  });
  after(async () => {
    await system?.stop();
    recordProof({
      suite: 'crash',
      size: proofSize(),
      seed: proofSeed(),
      cases: 1,
      wronglyAccepted: 0,
      lost: figures.secretsMade - figures.secretsLearnt,
      doubleFulfilled: Math.max(0, figures.secretsMade - 1),
      recovered: figures.recovered,
      failures: [],
      figures,
    });
  });
  const gatewaySecrets = () =>
    system.query<{ secret: string }>('gateway', 'select secret from signing_secrets order by created_at');

  it('the next rotate finishes the interrupted rotation with the same secret, and the shop accepts deliveries signed with it', async () => {
    await system.terminate('shop');
    await system.start('shop', 'shop.rotate_secret.after_gateway');
    const crashed = await countersign(['secrets', 'rotate', '--overlap', '1s'], env);
    assert.equal(crashed.code, 3, `the shop died mid-call: ${crashed.stderr}`);
    assert.equal((await system.waitExit('shop', 10_000))?.signal, 'SIGKILL');
    const made = await gatewaySecrets();
    assert.equal(made.length, 2, 'the gateway made the new secret');
    const pending = await system.query('shop', 'select * from webhook_secret_rotations');
    assert.equal(pending.length, 1, 'the rotation was recorded before the gateway was asked');
    assert.equal((await system.query('shop', 'select * from webhook_secrets')).length, 0, 'and not finished');

    await system.start('shop');
    // Another overlap this time: what is finished is the recorded rotation (same key, same body).
    const resumed = await countersign(['secrets', 'rotate', '--overlap', '2h', '--json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const out = JSON.parse(resumed.stdout) as {
      resumed: boolean;
      overlap_seconds: number;
      new_secret_fingerprint: string;
    };
    assert.equal(out.resumed, true);
    assert.equal(out.overlap_seconds, 1);
    const after = await gatewaySecrets();
    figures.secretsMade = after.length - 1;
    assert.equal(after.length, 2, 'the retry made no second secret');
    assert.equal(out.new_secret_fingerprint, sha8(after[1]!.secret));
    const stored = await system.query<{ secret: string }>(
      'shop',
      'select secret from webhook_secrets where rotation_key is not null',
    );
    assert.deepEqual(
      stored.map((s) => s.secret),
      [after[1]!.secret],
    );
    figures.secretsLearnt = stored.length;

    // Past the 1 s overlap only the new secret signs; the shop accepts the payment's webhook.
    await new Promise((r) => setTimeout(r, 1500));
    const paid = await countersign(['trigger', 'payment.captured', '--json'], env);
    assert.equal(paid.code, 0, `${paid.stdout}\n${paid.stderr}`);
    const payment = JSON.parse(paid.stdout) as { status: string; session_id: string };
    assert.equal(payment.status, 'captured');
    await deliveredFirstTime(system, payment.session_id);
    figures.recovered = 1;
    // And the crash left the money whole: every invariant of the crash matrix, the books included.
    const { verdict, afterMs } = await convergence(system, 30_000);
    assertVerdict(verdict, 'after the interrupted rotation', 'proof-crash-rotate', afterMs);
    assert.equal(verdict.figures.paidInvoices, 1, 'the one payment, paid once');
  });
});
