// The shop's adapter for our gateway: against the real gateway started in process (only the bank is
// faked) for the contract, and against a local stub server for faults (5xx, 4xx, timeouts, refused
// connections): retried with backoff only where a retry can help, with the same Idempotency-Key.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../src/core/errors.ts';
import { money } from '../src/core/money.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { startTestGateway, TEST_API_KEY } from '../src/gateway/testing.ts';
import { createGatewayAdapter, parseGatewayEvent } from '../src/shop/adapters/gateway.native.ts';
import { wireEvent } from '../src/shop/adapters/gateway.fake.ts';
import { eventFromSnapshot } from '../src/shop/domain/gateway.port.ts';

// One expiry for all: the same attempt must send the same body (else the gateway says key_reused).
const expiresAt = new Date(Date.now() + 20 * 60_000);
const request = (attemptId: string, invoiceId = 'inv_01JADAPTERTESTAAAAAAAAAAAA') => ({
  invoiceId,
  attemptId,
  amount: money(2599n, 'EUR'),
  expiresAt,
  returnUrl: `http://shop.test/invoices/${invoiceId}?from=gateway`,
  description: 'Order ord_1',
});

describe('gateway adapter against the real gateway', () => {
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  before(async () => {
    gw = await startTestGateway(testEngines()[0]!);
  });
  after(async () => {
    await gw?.stop();
  });

  it('creates one session per attempt id (Idempotency-Key), reads it back in neutral terms, cancels it and reads the feed', async () => {
    const adapter = createGatewayAdapter({ baseUrl: gw.url, apiKey: TEST_API_KEY });
    const a = await adapter.createSession(request('att_01JADAPTER000000000000001'));
    const again = await adapter.createSession(request('att_01JADAPTER000000000000001'));
    assert.match(a.sessionId, /^ps_/);
    assert.equal(again.sessionId, a.sessionId, 'a retried create is the same session');
    assert.equal(a.redirectUrl, `${gw.url}/pay/${a.sessionId}`);
    const other = await adapter.createSession(request('att_01JADAPTER000000000000002'));
    assert.notEqual(other.sessionId, a.sessionId);

    const s = await adapter.getSession(a.sessionId);
    assert.equal(s.status, 'open', 'created at the gateway: waiting for the payer, nothing in progress');
    assert.equal(s.invoiceId, 'inv_01JADAPTERTESTAAAAAAAAAAAA');
    assert.deepEqual(s.amount, money(2599n, 'EUR'));
    assert.ok(Number.isInteger(s.sequence));

    await adapter.cancelSession(a.sessionId);
    await adapter.cancelSession(a.sessionId);
    const canceled = await adapter.getSession(a.sessionId);
    assert.equal(canceled.status, 'canceled');
    assert.ok(canceled.sequence > s.sequence);

    const page = await adapter.listEvents(null);
    const ev = page.events.find((e) => e.sessionId === a.sessionId && e.status === 'canceled');
    assert.ok(ev, 'the feed has the cancellation');
    assert.equal(ev.invoiceId, 'inv_01JADAPTERTESTAAAAAAAAAAAA');
    const next = await adapter.listEvents(page.nextCursor);
    assert.ok(!next.events.some((e) => e.id === ev.id), 'the cursor moves on');
  });

  it('does not retry a refusal (wrong API key: 401)', async () => {
    const adapter = createGatewayAdapter({ baseUrl: gw.url, apiKey: 'sk_test_wrongwrongwrongwrong', backoffMs: 1 });
    await assert.rejects(
      adapter.createSession(request('att_01JADAPTER000000000000003')),
      (e) => isDomainError(e) && (e.details as { status: number }).status === 401,
    );
  });
});

describe('gateway adapter faults (stub server)', () => {
  let server: Server;
  let url = '';
  const seen: Array<{ method: string; url: string; key: string | undefined; body: string; auth: string | undefined }> =
    [];
  let answer: (n: number, req: IncomingMessage) => { status: number; body?: unknown } | 'hang' = () => ({
    status: 200,
    body: {},
  });

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          key: req.headers['idempotency-key'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
          auth: req.headers.authorization,
        });
        const a = answer(seen.length, req);
        if (a === 'hang') return; // never answers: the client's timeout must fire
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body ?? {}));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const session = {
    id: 'ps_stub',
    status: 'created',
    amount: { minor: '2599', currency: 'EUR' },
    merchant_reference: 'inv_x',
    hosted_url: 'http://gw/pay/ps_stub',
    sequence: 1,
  };
  const sleeps: number[] = [];
  // 150 ms is for the test of a hanging request; the others allow a loaded machine's slow answer, so a
  // late reply is not taken for a timeout (and retried once more than the test counts).
  const adapter = (timeoutMs = 2000) =>
    createGatewayAdapter({
      baseUrl: url,
      apiKey: 'sk_test_stubkey',
      timeoutMs,
      maxTries: 4,
      backoffMs: 100,
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    });

  it('retries 5xx and idempotency.in_progress with backoff, sending the same body and Idempotency-Key each time', async () => {
    seen.length = 0;
    sleeps.length = 0;
    answer = (n) =>
      n === 1
        ? { status: 503 }
        : n === 2
          ? { status: 409, body: { error: { code: 'idempotency.in_progress' } } }
          : { status: 201, body: session };
    const s = await adapter().createSession(request('att_stub1'));
    assert.equal(s.sessionId, 'ps_stub');
    assert.equal(seen.length, 3);
    assert.deepEqual(new Set(seen.map((r) => r.key)), new Set(['att_stub1']));
    assert.equal(new Set(seen.map((r) => r.body)).size, 1);
    assert.equal(seen[0]!.auth, 'Bearer sk_test_stubkey');
    assert.deepEqual(sleeps, [100, 200], 'exponential backoff with jitter (random 0.5 of 200, 400)');
  });

  it('does not retry a 4xx', async () => {
    seen.length = 0;
    answer = () => ({ status: 422, body: { error: { code: 'validation.failed' } } });
    await assert.rejects(
      adapter().createSession(request('att_stub2')),
      (e) => isDomainError(e, 'upstream.unavailable') && (e.details as { code: string }).code === 'validation.failed',
    );
    assert.equal(seen.length, 1);
  });

  it('times out a request that hangs and gives up after the last try with upstream.unavailable', async () => {
    seen.length = 0;
    answer = () => 'hang';
    const started = Date.now();
    // A second per try: long enough that every try reaches the stub however loaded the machine.
    await assert.rejects(adapter(1000).getSession('ps_stub'), (e) => isDomainError(e, 'upstream.unavailable'));
    assert.equal(seen.length, 4);
    assert.ok(Date.now() - started < 30_000, 'it gave up instead of waiting on the hung answers');
  });

  it('retries a refused connection (network error)', async () => {
    const dead = createGatewayAdapter({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: 'sk_test_stubkey',
      maxTries: 3,
      backoffMs: 1,
    });
    await assert.rejects(
      dead.getSession('ps_x'),
      (e) => isDomainError(e, 'upstream.unavailable') && (e.details as { tries: number }).tries === 3,
    );
  });
});

describe("the gateway's news and the card that paid", () => {
  const withCard = (card: unknown) => {
    const e = wireEvent({
      sessionId: 'ps_1',
      invoiceId: 'inv_1',
      amount: money(2599n, 'EUR'),
      status: 'authorized',
      sequence: 3,
    });
    return { ...e, data: { ...e.data, card } };
  };
  const news = (card: unknown) => parseGatewayEvent(withCard(card), 'webhook');

  it('keeps a brand and four digits, and leaves out a card of any other shape (the event itself still applies)', () => {
    assert.deepEqual(news({ brand: 'visa', last4: '4242' }).card, { brand: 'visa', last4: '4242' });
    assert.deepEqual(news({ brand: 'cartes_bancaires', last4: '0005' }).card, {
      brand: 'cartes_bancaires',
      last4: '0005',
    });
    for (const bad of [
      undefined,
      null,
      'visa 4242',
      { brand: 'visa' },
      { brand: 'visa', last4: 4242 },
      { brand: 'visa', last4: '42424' },
      { brand: 'visa', last4: '4x42' },
      { brand: '<script>', last4: '4242' },
      { brand: 'v'.repeat(33), last4: '4242' },
      { brand: '', last4: '4242' },
    ]) {
      const e = news(bad);
      assert.equal(e.card, undefined, JSON.stringify(bad));
      assert.equal(e.status, 'authorized');
    }
  });

  it('holds a status read to the same shape (the reconciliation keeps the card it names on the attempt too)', () => {
    const read = (card: unknown) =>
      eventFromSnapshot({
        sessionId: 'cs_1',
        status: 'captured',
        amount: money(2599n, 'EUR'),
        invoiceId: 'inv_1',
        sequence: 7,
        card: card as { brand: string; last4: string },
      }).card;
    assert.deepEqual(read({ brand: 'mastercard', last4: '4444' }), { brand: 'mastercard', last4: '4444' });
    assert.equal(read({ brand: 'visa<img>', last4: '4242' }), undefined);
    assert.equal(read(undefined), undefined);
  });
});
