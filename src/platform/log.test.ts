import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, withRequestId } from './log.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, log: createLogger('test', 'info', stream) };
}

describe('logs', () => {
  it('carry the request id on every line written while handling that request', async () => {
    const { lines, log } = capture();
    await withRequestId('req_abc', async () => {
      log.info('first');
      await new Promise((r) => setTimeout(r, 1));
      log.warn({ step: 2 }, 'second, after an await');
    });
    log.info('outside');
    const parsed = lines.map((l) => JSON.parse(l) as { requestId?: string; msg: string });
    assert.deepEqual(
      parsed.map((p) => [p.msg, p.requestId]),
      [
        ['first', 'req_abc'],
        ['second, after an await', 'req_abc'],
        ['outside', undefined],
      ],
    );
  });

  it('redact secrets, API keys, cookies and authorization headers by field name', () => {
    const { lines, log } = capture();
    log.info(
      {
        headers: { authorization: 'Bearer sk_test_secret123', cookie: 'shop_session=abc', 'x-api-key': 'sk_test_k' },
        password: 'hunter2',
        webhookSecret: 'whsec_zzz',
        nested: { apiKey: 'sk_test_nested', token: 't0k3n' },
        ok: 'visible',
      },
      'with secrets',
    );
    const out = lines.join('\n');
    for (const secret of [
      'sk_test_secret123',
      'shop_session=abc',
      'sk_test_k',
      'hunter2',
      'whsec_zzz',
      'sk_test_nested',
      't0k3n',
    ]) {
      assert.ok(!out.includes(secret), `leaked ${secret}`);
    }
    assert.ok(out.includes('visible'));
  });

  it('mask card numbers wherever they appear, keeping only the last four digits', () => {
    const { lines, log } = capture();
    log.info(
      { card: { number: '4242424242424242' }, note: 'paid with 4000 0025 0000 3155 today' },
      'card 4000-0000-0000-0002 declined',
    );
    log.error(new Error('bad card 4242424242424242'));
    const out = lines.join('\n');
    for (const pan of ['4242424242424242', '4000 0025 0000 3155', '4000-0000-0000-0002', '4000002500003155'])
      assert.ok(!out.includes(pan), `leaked ${pan}`);
    assert.ok(out.includes('…3155') && out.includes('…0002'));
  });
});
