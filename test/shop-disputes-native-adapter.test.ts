// The shop's adapter for our gateway's disputes against a local stub server (the network faked): the
// native dispute object read into the port's terms, evidence sent as JSON with the files base64 and one
// Idempotency-Key per submission (retries of a 5xx reuse it), acceptance, and the gateway's refusals
// (409 dispute.not_open, 400 evidence over its limits) as the shop's errors; dispute news in the event
// feed is parsed apart from payment news.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../src/core/errors.ts';
import { money } from '../src/core/money.ts';
import { parseDisputeEvent } from '../src/shop/adapters/gateway-disputes.native.ts';
import { wireDisputeEvent, wireEvent } from '../src/shop/adapters/gateway.fake.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';

const DISPUTE = {
  id: 'dp_01JSTUB',
  object: 'dispute',
  payment_session: 'ps_01JSTUB',
  amount: 1540,
  currency: 'EUR',
  reason: 'fraudulent',
  status: 'needs_response',
  evidence_due_by: '2026-12-09T12:00:00.000Z',
  created: '2026-12-02T12:00:00.000Z',
};

describe("the native adapter's dispute calls", () => {
  let server: Server;
  let url = '';
  const seen: Array<{ method: string; path: string; headers: Record<string, unknown>; body: string }> = [];
  let answers: Array<[number, unknown]> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        const [status, json] = answers.shift() ?? [200, DISPUTE];
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const adapter = () => createGatewayAdapter({ baseUrl: url, apiKey: 'sk_test_stub', backoffMs: 1, maxTries: 3 });

  it('reads a dispute into the port’s terms', async () => {
    const d = await adapter().getDispute!('dp_01JSTUB');
    assert.deepEqual(d, {
      disputeId: 'dp_01JSTUB',
      sessionId: 'ps_01JSTUB',
      amount: money(1540n, 'EUR'),
      reason: 'fraudulent',
      status: 'needs_response',
      evidenceDueBy: new Date('2026-12-09T12:00:00.000Z'),
      created: new Date('2026-12-02T12:00:00.000Z'),
    });
    assert.equal(seen.at(-1)!.path, '/v1/disputes/dp_01JSTUB');
    assert.equal(seen.at(-1)!.headers.authorization, 'Bearer sk_test_stub');
  });

  it('sends evidence as JSON with files base64, retrying a 5xx with the same Idempotency-Key', async () => {
    seen.length = 0;
    answers = [
      [503, { error: { code: 'internal' } }],
      [200, { ...DISPUTE, status: 'under_review' }],
    ];
    const d = await adapter().submitDisputeEvidence!('dp_01JSTUB', {
      text: 'Delivered.',
      files: [{ name: 'receipt.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }],
    });
    assert.equal(d.status, 'under_review');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.path, '/v1/disputes/dp_01JSTUB/evidence');
    assert.deepEqual(JSON.parse(seen[1]!.body), {
      text: 'Delivered.',
      files: [
        {
          name: 'receipt.pdf',
          content_type: 'application/pdf',
          content_base64: Buffer.from('%PDF-1.7').toString('base64'),
        },
      ],
    });
    assert.ok(seen[0]!.headers['idempotency-key']);
    assert.equal(seen[1]!.headers['idempotency-key'], seen[0]!.headers['idempotency-key']);
  });

  it("accepts, and turns the gateway's refusals into the shop's errors", async () => {
    answers = [[200, { ...DISPUTE, status: 'lost' }]];
    assert.equal((await adapter().acceptDispute!('dp_01JSTUB')).status, 'lost');
    assert.equal(seen.at(-1)!.path, '/v1/disputes/dp_01JSTUB/accept');
    answers = [[409, { error: { code: 'dispute.not_open', message: 'closed' } }]];
    await assert.rejects(adapter().acceptDispute!('dp_01JSTUB'), (e) => isDomainError(e, 'dispute.not_open'));
    answers = [[400, { error: { code: 'dispute.evidence_invalid', message: 'too big' } }]];
    await assert.rejects(adapter().submitDisputeEvidence!('dp_01JSTUB', { text: 'x', files: [] }), (e) =>
      isDomainError(e, 'validation.failed'),
    );
    answers = [[404, { error: { code: 'not_found', message: 'no' } }]];
    await assert.rejects(adapter().getDispute!('dp_other'), (e) => isDomainError(e, 'not_found'));
  });

  it('reads dispute news apart from payment news in the event feed', async () => {
    const payment = wireEvent({
      sessionId: 'ps_01JSTUB',
      invoiceId: 'inv_1',
      amount: money(1540n, 'EUR'),
      status: 'captured',
      sequence: 3,
    });
    const dispute = wireDisputeEvent(
      parseDisputeEvent({ id: 'evt_x', type: 'dispute.created', data: { object: DISPUTE } }, 'feed'),
      'dispute.created',
    );
    answers = [
      [
        200,
        {
          data: [
            { ...payment, cursor: 'c1' },
            { ...dispute, cursor: 'c2' },
          ],
          next_cursor: 'c2',
          has_more: false,
        },
      ],
    ];
    const page = await adapter().listEvents(null);
    assert.deepEqual(
      page.events.map((e) => [e.id, e.status]),
      [[payment.id, 'captured']],
    );
    assert.deepEqual(
      page.disputes?.map((d) => [d.id, d.disputeId, d.status, d.source]),
      [[dispute.id, 'dp_01JSTUB', 'needs_response', 'feed']],
    );
  });
});
