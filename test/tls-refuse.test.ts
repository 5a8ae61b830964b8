// A party that does not trust the CA its peer's certificate comes from refuses to talk to it: the three
// services run over https (`npm start -- --tls`), but the gateway is told to trust another CA
// (GATEWAY_TLS_CA_FILE), so its call to the bank fails certificate verification and no card is charged.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDevCertificates } from '../src/platform/dev-certificates.ts';
import { outboundFetch } from '../src/platform/http/outbound.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { APPROVED_CARD, cardDetails } from './support/factories.ts';

describe('a party with the wrong CA over https', () => {
  let system: LaunchedSystem;
  let otherCaDir: string;

  before(async () => {
    otherCaDir = mkdtempSync(join(tmpdir(), 'cs-other-ca-'));
    const other = await ensureDevCertificates(otherCaDir);
    system = await launchSystem({ GATEWAY_TLS_CA_FILE: other.caFile }, { tls: true });
  });

  after(async () => {
    await system.stop();
    rmSync(otherCaDir, { recursive: true, force: true });
  });

  it('the gateway refuses the bank whose certificate it cannot verify, and the payment is not authorised or captured', async () => {
    const trusting = outboundFetch(readFileSync(system.caFile!, 'utf8'));
    const { gateway } = system.urls;
    const created = await trusting(`${gateway}/v1/payment_sessions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${system.demoMerchantApiKey()}`,
        'content-type': 'application/json',
        'idempotency-key': 'tls-wrong-ca-1',
      },
      body: JSON.stringify({
        amount: { minor: '2500', currency: 'EUR' },
        merchant_reference: 'inv_tls_wrong_ca',
        description: 'Test order',
        return_url: `${system.urls.shop}/r`,
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as { id: string };
    const card = cardDetails(APPROVED_CARD, { cvc: '987', name: 'A Payer' });
    const paid = await trusting(`${gateway}/pay/${id}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card),
    });
    const answer = (await paid.json()) as { status?: string };
    assert.notEqual(answer.status, 'authorized', JSON.stringify(answer));

    await new Promise((r) => setTimeout(r, 3000));
    const session = (await (
      await trusting(`${gateway}/v1/payment_sessions/${id}`, {
        headers: { authorization: `Bearer ${system.demoMerchantApiKey()}` },
      })
    ).json()) as { status: string };
    assert.ok(!['authorized', 'captured'].includes(session.status), `session ${session.status}`);
    // The reason is the certificate, not a bank that is down: it answers anyone who trusts the right CA,
    // and not one request from the gateway reached it (the TLS handshake failed before any HTTP).
    assert.equal((await trusting(`${system.urls.bank}/readyz`)).status, 200);
    assert.match(readFileSync(join(system.dataDir, 'logs', 'gateway.log'), 'utf8'), /authorisation failed at the bank/);
    assert.doesNotMatch(
      readFileSync(join(system.dataDir, 'logs', 'bank.log'), 'utf8'),
      /"path":"\/api\/v1\//,
      'a request reached the bank',
    );
  });
});
