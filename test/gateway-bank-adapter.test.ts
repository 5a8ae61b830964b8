// The bank adapter signs every request it sends: a tiny local HTTP server stands in for the bank and
// verifies each request with verifyRequest over the method, the path and query and the exact bytes
// received; GET requests sign the empty body. Answers map onto the issuer port.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../src/core/errors.ts';
import { money } from '../src/core/money.ts';
import { verifyRequest } from '../src/core/request-signature.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { systemClock } from '../src/platform/clock.ts';
import { createBankAdapter } from '../src/gateway/issuer/bank.adapter.ts';

describe('bank adapter (HTTP issuer port)', () => {
  const key = newWebhookSecret();
  const seen: { method: string; path: string; body: string; verified: boolean; headers: IncomingMessage['headers'] }[] =
    [];
  let answer: (path: string) => [number, unknown] = () => [200, {}];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        verifyRequest({
          method: req.method!,
          target: req.url!,
          headers: req.headers as Record<string, string>,
          body,
          secrets: [key],
          now: new Date(),
        });
        verified = true;
      } catch {
        verified = false;
      }
      seen.push({ method: req.method!, path: req.url!, body, verified, headers: req.headers });
      if (!verified) return void res.writeHead(401).end('{"error":{"code":"request.signature_invalid","message":"x"}}');
      const [status, json] = answer(req.url!);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  let baseUrl = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const card = { number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '123', name: 'A Payer' };

  it('signs the authorisation request over its exact body and maps approved, pending and declined', async () => {
    const bank = createBankAdapter({ baseUrl, key, clock: systemClock });
    answer = () => [201, { id: 'bauth_1', status: 'approved' }];
    const approved = await bank.authorize({
      gatewayRef: 'ps_x',
      card,
      amount: money(1234n, 'EUR'),
      merchantName: 'Shop',
      description: 'd',
      reference: 'inv_1',
    });
    assert.deepEqual(approved, { status: 'approved', authorizationId: 'bauth_1' });
    const req = seen.at(-1)!;
    assert.equal(req.verified, true);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/v1/authorizations');
    const sent = JSON.parse(req.body);
    assert.deepEqual(sent.amount, { minor: '1234', currency: 'EUR' });
    assert.equal(sent.gateway_ref, 'ps_x');
    assert.equal(sent.card.number, card.number);
    assert.deepEqual(sent.merchant, { name: 'Shop' });
    answer = () => [201, { id: 'bauth_2', status: 'pending', approval_expires_at: '2030-01-01T00:00:00Z' }];
    assert.equal(
      (
        await bank.authorize({
          gatewayRef: 'ps_y',
          card,
          amount: money(1n, 'EUR'),
          merchantName: 'Shop',
          description: '',
          reference: '',
        })
      ).status,
      'pending',
    );
    answer = () => [201, { id: 'bauth_3', status: 'declined', decline_reason: 'insufficient_funds' }];
    assert.deepEqual(
      await bank.authorize({
        gatewayRef: 'ps_z',
        card,
        amount: money(1n, 'EUR'),
        merchantName: 'Shop',
        description: '',
        reference: '',
      }),
      {
        status: 'declined',
        authorizationId: 'bauth_3',
        declineReason: 'insufficient_funds',
      },
    );
  });

  it('signs GET over the empty body, and capture, void and refund over theirs', async () => {
    const bank = createBankAdapter({ baseUrl, key, clock: systemClock });
    answer = (path) => [
      200,
      path.endsWith('/capture')
        ? { status: 'captured' }
        : path.endsWith('/void')
          ? { status: 'voided' }
          : path.endsWith('/refunds')
            ? { status: 'refunded' }
            : { id: 'bauth_1', status: 'approved' },
    ];
    assert.equal((await bank.status('bauth_1')).status, 'approved');
    assert.equal(seen.at(-1)!.method, 'GET');
    assert.equal(seen.at(-1)!.body, '');
    assert.equal(seen.at(-1)!.verified, true);
    await bank.capture('bauth_1', money(1234n, 'EUR'));
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { amount: { minor: '1234', currency: 'EUR' } });
    await bank.void('bauth_1');
    await bank.refund('bauth_1', 'ref_1', money(100n, 'EUR'));
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { refund_ref: 'ref_1', amount: { minor: '100', currency: 'EUR' } });
    assert.ok(seen.every((s) => s.verified));
    assert.equal(
      new Set(seen.map((s) => s.headers['signed-request-id'])).size,
      seen.length,
      'each request, retries included, has its own request id',
    );
  });

  it('a request signed with another key is refused by the bank and surfaces as upstream.unavailable', async () => {
    const wrong = createBankAdapter({ baseUrl, key: newWebhookSecret(), clock: systemClock });
    await assert.rejects(wrong.status('bauth_1'), (e) => isDomainError(e, 'upstream.unavailable'));
    assert.equal(seen.at(-1)!.verified, false);
  });

  it('an unreachable bank is upstream.unavailable, not a crash', async () => {
    const down = createBankAdapter({ baseUrl: 'http://127.0.0.1:1', key, clock: systemClock, timeoutMs: 1000 });
    await assert.rejects(down.capture('bauth_1', money(1n, 'EUR')), (e) => isDomainError(e, 'upstream.unavailable'));
  });
});
