// The gateway against the real bank service (both started in process on fresh PGlite databases, a
// local receiver standing in for the shop): the signed issuer API and the signed callbacks agree on
// the contract. Approved cards are captured at the bank once the shop acknowledges; a refusal voids
// at the bank; the processing-delay card is decided by the bank's callback; refunds reach the bank.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { bankDatabaseSpec, loadBankConfig, startBank } from '../src/bank/main.ts';
import { createBankAdapter } from '../src/gateway/issuer/bank.adapter.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { systemClock } from '../src/platform/clock.ts';
import { freshDatabase } from '../src/platform/db/testing.ts';
import { rows } from '../src/platform/db/database.ts';
import { sql } from 'drizzle-orm';
import type { ServiceHandle } from '../src/platform/service.ts';
import { freePort } from './support/harness/wiring.ts';
import { cardDetails } from './support/factories.ts';

const card = (number: string) => cardDetails(number);

describe('gateway with the real bank', () => {
  let bank: ServiceHandle;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let shop: Awaited<ReturnType<typeof webhookReceiver>>;
  const key = newWebhookSecret();
  const callbackSecret = newWebhookSecret();
  let bankUrl = '';
  let n = 0;

  before(async () => {
    shop = await webhookReceiver();
    const [gatewayPort, bankPort] = [await freePort(), await freePort()];
    bankUrl = `http://127.0.0.1:${bankPort}`;
    bank = await startBank(
      loadBankConfig({
        BANK_PORT: String(bankPort),
        BANK_GATEWAY_KEY: key,
        BANK_GATEWAY_CALLBACK_URL: `http://127.0.0.1:${gatewayPort}/bank/callbacks`,
        BANK_CALLBACK_SECRET: callbackSecret,
        BANK_PROCESSING_DELAY_SECONDS: '1',
        LOG_LEVEL: 'silent',
      }),
      { database: await freshDatabase(bankDatabaseSpec, 'pglite'), workerPollMs: 100 },
    );
    gw = await startTestGateway('pglite', {
      webhookUrl: shop.url,
      port: gatewayPort,
      bank: { url: bankUrl, key, callbackSecret },
    });
  });
  after(async () => {
    await gw?.stop();
    await bank?.stop();
    await shop?.close();
  });

  async function pay(number: string) {
    const res = await gw.api('/v1/payment_sessions', {
      body: { amount: { minor: '1500', currency: 'EUR' }, merchant_reference: `bank-${++n}` },
    });
    const { id } = (await res.json()) as { id: string };
    const paid = await fetch(`${gw.url}/pay/${id}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card(number)),
    });
    assert.equal(paid.status, 200);
    return { id, first: ((await paid.json()) as { status: string }).status };
  }
  const session = async (id: string) =>
    (await (await gw.api(`/v1/payment_sessions/${id}`)).json()) as { status: string; decline_reason: string | null };
  const until = (id: string, status: string) =>
    eventually(async () => ((await session(id)).status === status ? true : undefined), 20_000, `${id} ${status}`);
  const bankStatus = async (id: string) => {
    const [row] = await rows<{ bank_authorization_id: string }>(
      gw.database.db,
      sql`select bank_authorization_id from payment_sessions where id = ${id}`,
    );
    return (await createBankAdapter({ baseUrl: bankUrl, key, clock: systemClock }).status(row!.bank_authorization_id))
      .status;
  };

  it('an approved card is authorised by the bank and captured there after the shop acknowledges', async () => {
    const { id, first } = await pay('4242424242424242');
    assert.equal(first, 'authorized');
    await until(id, 'captured');
    assert.equal(await bankStatus(id), 'captured');
  });

  it("a declined card is declined with the bank's reason", async () => {
    const { id, first } = await pay('4000000000009995');
    assert.equal(first, 'declined');
    assert.equal((await session(id)).decline_reason, 'insufficient_funds');
  });

  it("the processing-delay card waits, and the bank's signed callback authorises it", async () => {
    const { id, first } = await pay('4000000000000077');
    assert.equal(first, 'requires_approval');
    await until(id, 'captured');
    const callbacks = await rows<{ n: number }>(
      gw.database.db,
      sql`select count(*)::int as n from bank_callbacks where type = 'authorization.approved'`,
    );
    assert.equal(callbacks[0]!.n, 1, 'decided by the callback, not by polling');
    assert.equal(await bankStatus(id), 'captured');
  });

  it('a refusal by the shop voids the authorisation at the bank', async () => {
    shop.setRespond((_r, res) => void res.writeHead(409).end('{"error":{"code":"invoice.expired","message":"x"}}'));
    const { id } = await pay('4242424242424242');
    await until(id, 'voided');
    assert.equal(await bankStatus(id), 'voided');
    shop.setRespond((_r, res) => void res.writeHead(200).end('{}'));
  });

  it('a refund reaches the bank', async () => {
    const { id } = await pay('4242424242424242');
    await until(id, 'captured');
    const res = await gw.api('/v1/refunds', {
      body: { session_id: id, amount: { minor: '500', currency: 'EUR' }, reason: 'damaged' },
    });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { status: string }).status, 'succeeded');
    // The bank names any refunded authorisation `refunded` (its amounts say how much).
    assert.match(await bankStatus(id), /refunded/);
  });
});
