// `countersign secrets rotate`, run as the real command line against the three parties as processes
// (on PostgreSQL, so that the shop alone can be restarted): the shop learns the new secret through its
// operator API without a restart, accepts deliveries signed with both during the overlap and with the
// new one only after it, and still accepts them after a restart (the secret is in its database).
// Attackers: no or a wrong operator token rotates nothing. No secret in the command's output or in
// the services' logs.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { countersign } from './support/cli.ts';
import { deliveredFirstTime } from './support/deliveries.ts';
import { startPartyProcesses, type PartyProcesses } from './support/harness/processes.ts';

const sha8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

describe('countersign secrets rotate against running parties', () => {
  let system: PartyProcesses;
  let env: Record<string, string>;
  const operatorToken = `ops_${randomBytes(32).toString('base64url')}`;
  const run = (...args: string[]) => countersign(args, env);
  /** The gateway's secrets of the demo merchant, oldest first, with whether each signs now. */
  /** When the first rotation's overlap ends (set by the rotation test, awaited by the next). */
  let overlapEnds = 0;
  const gatewaySecrets = () =>
    system.query<{ secret: string; signs: boolean }>(
      'gateway',
      `select secret, (retired_at is null and (expires_at is null or expires_at > now())) as signs
         from signing_secrets order by created_at`,
    );
  /**
   * A real payment through the shop (its demo customer), the gateway and the bank, and the proof that
   * the shop accepted its webhooks: each native delivery of the session was answered 2xx at its first
   * attempt (a refused signature is answered 401 and retried; the shop's reconciliation would still
   * capture the payment, so "captured" alone proves nothing about the signature).
   */
  const payThroughShop = async () => {
    const r = await run('trigger', 'payment.captured', '--json');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\nshop log:\n${system.log('shop')}`);
    const out = JSON.parse(r.stdout) as { via: string; status: string; session_id: string };
    assert.equal(out.via, 'shop');
    assert.equal(out.status, 'captured');
    await deliveredFirstTime(system, out.session_id);
    return out;
  };
  const rotations: string[] = [];

  before(async () => {
    system = await startPartyProcesses({ LOG_LEVEL: 'info', SHOP_OPERATOR_TOKEN: operatorToken });
    env = {
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_SHOP_URL: system.urls.shop,
      COUNTERSIGN_BANK_URL: system.urls.bank,
      COUNTERSIGN_API_KEY: system.apiKey,
      COUNTERSIGN_OPERATOR_TOKEN: operatorToken,
      DATA_DIR: '/nonexistent-countersign-data',
    };
  });
  after(() => system?.stop());

  it('--help explains the overlap and lists the exit codes; a malformed duration is a usage error (2)', async () => {
    const help = await run('secrets', 'rotate', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--overlap <duration>[\s\S]*old secret keeps signing beside the new one/);
    assert.match(help.stdout, /Exit codes:/);
    for (const bad of ['10', '8d', '-1h', '1.5h']) {
      const r = await run('secrets', 'rotate', '--overlap', bad);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    }
    assert.equal((await gatewaySecrets()).length, 1, 'nothing rotated');
  });

  it('without or with a wrong operator token nothing is rotated (401, exit 4)', async () => {
    const wrong = await countersign(['secrets', 'rotate'], {
      ...env,
      COUNTERSIGN_OPERATOR_TOKEN: `ops_${'x'.repeat(43)}`,
    });
    assert.equal(wrong.code, 4, wrong.stderr);
    assert.match(wrong.stderr, /the shop refused the operator token/);
    assert.doesNotMatch(wrong.stderr, /ops_x{10}/, 'the token is not echoed');
    for (const authorization of [undefined, 'Bearer ', `Bearer ${operatorToken}x`, `Basic ${operatorToken}`]) {
      const res = await fetch(`${system.urls.shop}/ops/secrets/rotate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: '{}',
      });
      assert.equal(res.status, 401, String(authorization));
    }
    assert.equal((await gatewaySecrets()).length, 1, 'the gateway made no secret');
    assert.equal((await system.query('shop', 'select * from webhook_secrets')).length, 0, 'the shop stored none');
  });

  it('rotates: the new secret signs at once beside the old one, and a payment right after is accepted by the shop', async () => {
    // Ten seconds: long enough that the checks below run inside the overlap on a loaded machine too.
    const before = Date.now();
    const r = await run('secrets', 'rotate', '--overlap', '10s', '--json');
    const after = Date.now();
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      new_secret_fingerprint: string;
      old_secrets_expire_at: string;
      overlap_seconds: number;
    };
    assert.equal(out.ok, true);
    assert.equal(out.overlap_seconds, 10);
    const secrets = await gatewaySecrets();
    assert.equal(secrets.length, 2);
    const newest = secrets[1]!.secret;
    rotations.push(secrets[0]!.secret, newest);
    assert.equal(out.new_secret_fingerprint, sha8(newest));
    overlapEnds = Date.parse(out.old_secrets_expire_at);
    assert.ok(overlapEnds >= before + 10_000 - 1000 && overlapEnds <= after + 10_000 + 1000, out.old_secrets_expire_at);
    assert.doesNotMatch(r.stdout + r.stderr, /whsec_/, 'no secret in the output');
    const stored = await system.query<{ secret: string }>(
      'shop',
      'select secret from webhook_secrets where rotation_key is not null',
    );
    assert.deepEqual(
      stored.map((s) => s.secret),
      [newest],
      'the shop keeps the new secret',
    );
    // Signed with both (the old one is SHOP_GATEWAY_WEBHOOK_SECRETS, the new one learnt just now).
    assert.deepEqual(
      secrets.map((s) => s.signs),
      [true, true],
    );
    await payThroughShop();
  });

  it('after the overlap the gateway signs with the new secret only, and the shop (never restarted) accepts it', async () => {
    await new Promise((r) => setTimeout(r, Math.max(0, overlapEnds + 500 - Date.now())));
    const secrets = await gatewaySecrets();
    assert.deepEqual(
      secrets.map((s) => s.signs),
      [false, true],
      'only the new secret signs',
    );
    await payThroughShop();
    const human = await run('secrets', 'rotate', '--overlap', '0s');
    assert.equal(human.code, 0, human.stderr);
    const newest = (await gatewaySecrets()).at(-1)!.secret;
    rotations.push(newest);
    assert.match(human.stdout, new RegExp(`^rotated +\\S+ +new secret ${sha8(newest)} \\(fingerprint\\)$`, 'm'));
    assert.match(
      human.stdout,
      /^overlap +the gateway signs with the old and the new secret until \S+, then with the new one only$/m,
    );
    assert.doesNotMatch(human.stdout + human.stderr, /whsec_/);
    assert.deepEqual(
      (await gatewaySecrets()).map((s) => s.signs),
      [false, false, true],
    );
    await payThroughShop();
  });

  it('a restarted shop still accepts deliveries signed only with the secret it learnt (kept in its database)', async () => {
    await system.terminate('shop');
    await system.start('shop');
    // The operator's status (what `countersign doctor` compares) shows the secret the shop verifies with now.
    const status = await fetch(`${system.urls.shop}/ops/status`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    const { webhook_secrets } = (await status.json()) as { webhook_secrets: { fingerprints: string[] } };
    assert.deepEqual(webhook_secrets.fingerprints, [sha8(rotations.at(-1)!)]);
    assert.deepEqual(
      (await gatewaySecrets()).map((s) => s.signs),
      [false, false, true],
    );
    await payThroughShop();
  });

  it('a delivery signed only with a secret the gateway has stopped using is refused by the shop', async () => {
    // The configured secret (SHOP_GATEWAY_WEBHOOK_SECRETS) expired with the first rotation: a leaked copy no longer works.
    const { signWebhook } = await import('../src/core/webhook-signature.ts');
    const body = JSON.stringify({ id: 'evt_forged', type: 'payment.captured', data: {} });
    const res = await fetch(`${system.urls.shop}/webhooks/gateway`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signWebhook({ id: 'evt_forged', timestamp: new Date(), body, secrets: [rotations[0]!] }),
      },
      body,
    });
    assert.equal(res.status, 401);
  });

  it('no secret appears in the logs of the shop or the gateway', () => {
    const logs = system.log('shop') + system.log('gateway');
    assert.ok(logs.length > 0);
    for (const s of rotations) assert.ok(!logs.includes(s.slice(6, 30)), `secret ${sha8(s)} is in a log`);
  });
});
