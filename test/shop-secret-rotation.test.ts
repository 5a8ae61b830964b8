// The shop's side of webhook-secret rotation on a real database of both engines, with the gateway
// faked at the port: Stripe (no rotation API) is refused with what to do instead; a refusal by the
// gateway leaves nothing to finish, a lost answer is asked for again with the same Idempotency-Key;
// the keyring verifies with configured and learnt secrets, minus expired ones, and after a miss reads
// the database at most once a second.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError, isDomainError } from '../src/core/errors.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { systemClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import { createStripeAdapter } from '../src/shop/adapters/gateway.stripe.ts';
import { rotateWebhookSecret } from '../src/shop/commands/rotate-webhook-secret.ts';
import type { GatewayPort, SecretRotationRequest } from '../src/shop/domain/gateway.port.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { webhookKeyring } from '../src/shop/storage/webhook-secrets.ts';

/** A gateway that only rotates: answers from `answer`, recording every request. */
function rotatingGateway(answer: (r: SecretRotationRequest) => Promise<string>) {
  const requests: SecretRotationRequest[] = [];
  const gateway = {
    async rotateWebhookSecret(r: SecretRotationRequest) {
      requests.push(r);
      const secret = await answer(r);
      return { secret, createdAt: new Date(), previousExpiresAt: new Date(Date.now() + r.overlapSeconds * 1000) };
    },
  } as unknown as GatewayPort;
  return { gateway, requests };
}

for (const engine of testEngines()) {
  describe(`shop webhook-secret rotation (${engine})`, () => {
    let database: Database;
    const configured = [newWebhookSecret()];
    const deps = (gateway: GatewayPort | undefined) => ({
      database,
      clock: systemClock,
      gateway,
      configuredSecrets: configured,
    });
    const count = async (table: string) =>
      Number(
        ((await database.db.execute(`select count(*)::int as n from ${table}`)) as unknown as { rows: { n: number }[] })
          .rows[0]!.n,
      );
    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
    });
    after(() => database?.close());

    it('refuses with the Stripe adapter, saying to roll the secret in the Stripe dashboard, and records nothing', async () => {
      const stripe = createStripeAdapter({
        secretKey: 'sk_test_notused',
        apiUrl: 'http://127.0.0.1:9',
        timeoutMs: 100,
      });
      await assert.rejects(rotateWebhookSecret(deps(stripe), 60), (err) => {
        assert.ok(isDomainError(err) && err.code === 'webhook_secret.rotation_unsupported');
        assert.match(err.message, /Stripe dashboard[\s\S]*SHOP_STRIPE_WEBHOOK_SECRETS/);
        return true;
      });
      await assert.rejects(rotateWebhookSecret(deps(undefined), 60), /no API to rotate/);
      assert.equal(await count('webhook_secret_rotations'), 0);
    });

    it("a gateway's refusal leaves nothing to finish; a lost answer is asked for again with the same key and overlap", async () => {
      const refused = rotatingGateway(async () => {
        throw new DomainError('upstream.unavailable', { status: 401, code: 'auth.invalid_credentials' });
      });
      await assert.rejects(rotateWebhookSecret(deps(refused.gateway), 60));
      assert.equal(await count('webhook_secret_rotations'), 0, 'nothing happened at the gateway');

      const lost = rotatingGateway(async () => {
        throw new DomainError('upstream.unavailable', { reason: 'network: TimeoutError' });
      });
      await assert.rejects(rotateWebhookSecret(deps(lost.gateway), 120));
      assert.equal(await count('webhook_secret_rotations'), 1, 'the rotation stays to finish');
      const secret = newWebhookSecret();
      const answered = rotatingGateway(async () => secret);
      const r = await rotateWebhookSecret(deps(answered.gateway), 999);
      assert.equal(r.resumed, true);
      assert.equal(answered.requests[0]!.idempotencyKey, lost.requests[0]!.idempotencyKey);
      assert.equal(answered.requests[0]!.overlapSeconds, 120);
      const again = rotatingGateway(async () => newWebhookSecret());
      assert.equal((await rotateWebhookSecret(deps(again.gateway), 60)).resumed, false, 'then a new rotation');
      assert.notEqual(again.requests[0]!.idempotencyKey, lost.requests[0]!.idempotencyKey);
    });

    it('the keyring adds learnt secrets, drops expired ones (configured too) and reads at most once per missRefreshMs after a miss', async () => {
      const log = createLogger('shop', 'silent');
      // Reads after a miss at most every 3 s here (1 s by default): the rotation below and the check
      // after it fit in that on a loaded machine too.
      const keyring = webhookKeyring({ database, configured, log, refreshMs: 60_000, missRefreshMs: 3000 });
      const before = await keyring.current(new Date());
      // Two rotations above: the configured secret and the first learnt one expire with the second's overlap.
      assert.ok(before.includes(configured[0]!), 'the configured secret signs until its overlap ends');
      const later = await keyring.current(new Date(Date.now() + 3600_000));
      assert.ok(!later.includes(configured[0]!), 'and is refused after it');
      assert.equal(later.length, 1, 'only the newest secret is in force after the overlaps');
      // Another node learns a secret: this node sees it after a miss, at most once per missRefreshMs.
      const other = rotatingGateway(async () => newWebhookSecret());
      await rotateWebhookSecret(deps(other.gateway), 60);
      assert.equal(await keyring.afterMiss(new Date()), null, 'read less than 3 s ago: no read');
      await new Promise((r) => setTimeout(r, 3100));
      const fresh = await keyring.afterMiss(new Date());
      assert.ok(fresh && fresh.length === before.length + 1, 'the secret learnt elsewhere is in force');
      assert.equal(await keyring.afterMiss(new Date()), null);
    });
  });
}
