import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createRoute, z } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import { createLogger } from '../log.ts';
import { setAnswerHeader } from './answer-header.ts';
import { createServiceApp, MAX_BODY_BYTES } from './app.ts';
import { createMetrics } from './metrics.ts';
import { listen } from './server.ts';

function makeApp(ready = async () => true) {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) });
  const app = createServiceApp({
    name: 'test',
    log: createLogger('test', 'info', sink),
    metrics: createMetrics('test'),
    ready,
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/things',
      request: {
        body: {
          content: { 'application/json': { schema: z.object({ name: z.string().min(1), count: z.int().positive() }) } },
        },
      },
      responses: {
        201: { description: 'created', content: { 'application/json': { schema: z.object({ name: z.string() }) } } },
      },
    }),
    (c) => c.json({ name: c.req.valid('json').name }, 201),
  );
  app.post('/echo', async (c) =>
    c.json({ bytes: (await c.req.arrayBuffer()).byteLength, form: await c.req.parseBody().catch(() => null) }),
  );
  app.get('/expired', () => {
    throw new DomainError('invoice.expired');
  });
  app.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  return { app, lines };
}

/** A form's fields in order, as [name, value] pairs. */
function pairsOf(form: FormData): string[][] {
  const pairs: string[][] = [];
  form.forEach((value, name) => pairs.push([name, String(value)]));
  return pairs;
}

/** A request body that arrives as a stream of `size`-byte chunks, so it has no Content-Length. */
function chunksOf(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, (at += size)));
    },
  });
}

describe('the service edge', () => {
  it('answers /healthz while the process is up', async () => {
    const res = await makeApp().app.request('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', service: 'test' });
  });

  it('answers /readyz 503 when the database is not ready and 200 when it is', async () => {
    assert.equal((await makeApp(async () => false).app.request('/readyz')).status, 503);
    assert.equal(
      (
        await makeApp(async () => {
          throw new Error('connection refused');
        }).app.request('/readyz')
      ).status,
      503,
    );
    assert.equal((await makeApp().app.request('/readyz')).status, 200);
  });

  it('counts requests and their latency by route pattern in /metrics', async () => {
    const { app } = makeApp();
    await app.request('/things', {
      method: 'POST',
      body: JSON.stringify({ name: 'a', count: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    await app.request('/expired');
    const text = await (await app.request('/metrics')).text();
    assert.match(text, /http_requests_total\{method="POST",route="\/things",status="201",service="test"\} 1/);
    assert.match(text, /http_requests_total\{method="GET",route="\/expired",status="409",service="test"\} 1/);
    assert.match(text, /http_request_duration_seconds_count\{service="test",method="POST",route="\/things"\} 1/);
  });

  it('labels metrics with the handler route even when a party adds wildcard middleware after it', async () => {
    const { app } = makeApp();
    app.use('*', async (_c, next) => next());
    await app.request('/readyz');
    await app.request('/no/such/page');
    const text = await (await app.request('/metrics')).text();
    assert.match(text, /http_requests_total\{method="GET",route="\/readyz",status="200",service="test"\} 1/);
    assert.match(text, /http_requests_total\{method="GET",route="unmatched",status="404",service="test"\} 1/);
  });

  it('maps a domain error to its status with a clear JSON error', async () => {
    const res = await makeApp().app.request('/expired');
    assert.equal(res.status, 409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'invoice.expired');
    assert.ok(body.error.message.length > 5);
  });

  it('answers invalid input with 422 naming the fields, and malformed JSON with 400', async () => {
    const { app } = makeApp();
    const bad = await app.request('/things', {
      method: 'POST',
      body: JSON.stringify({ name: '', count: 1.5 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 422);
    const body = (await bad.json()) as { error: { code: string; details: { issues: { path: string }[] } } };
    assert.equal(body.error.code, 'validation.failed');
    assert.deepEqual(body.error.details.issues.map((i) => i.path).sort(), ['count', 'name']);
    const malformed = await app.request('/things', {
      method: 'POST',
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'request.malformed');
  });

  it('hides an unexpected error behind a generic 500 and logs it with the request id, redacted', async () => {
    const { app, lines } = makeApp();
    const res = await app.request('/boom', { headers: { 'x-request-id': 'req-test-1' } });
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!text.includes('hunter2'));
    assert.equal(res.headers.get('x-request-id'), 'req-test-1');
    const logged = lines
      .map((l) => JSON.parse(l) as { msg: string; requestId?: string })
      .find((l) => l.msg === 'request failed');
    assert.equal(logged?.requestId, 'req-test-1');
  });

  it('answers unknown paths with a JSON 404 and gives every response a request id', async () => {
    const res = await makeApp().app.request('/nowhere');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
  });

  it('refuses a body over 1 MiB with 413 request.too_large over real HTTP, declared or chunked, and the client gets the answer, not a reset', async () => {
    const server = await listen(makeApp().app.fetch, 0, '127.0.0.1');
    try {
      const big = JSON.stringify({ name: 'x'.repeat(2 * MAX_BODY_BYTES), count: 1 });
      const declared = await fetch(`${server.url}/things`, {
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(declared.status, 413);
      assert.equal(((await declared.json()) as { error: { code: string } }).error.code, 'request.too_large');
      const chunked = await fetch(`${server.url}/things`, {
        method: 'POST',
        body: chunksOf(big, 64 * 1024),
        headers: { 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413);
      assert.equal(((await chunked.json()) as { error: { code: string } }).error.code, 'request.too_large');
      // A chunked body within the limit reaches the route intact, through the edge's NUL check and validation.
      const fits = await fetch(`${server.url}/things`, {
        method: 'POST',
        body: chunksOf(JSON.stringify({ name: 'é'.repeat(100_000), count: 2 }), 1000),
        headers: { 'content-type': 'application/json' },
        duplex: 'half',
      } as RequestInit);
      assert.equal(fits.status, 201);
      assert.equal(((await fits.json()) as { name: string }).name, 'é'.repeat(100_000));
      const form = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body: chunksOf('a=1&b=two', 3),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        duplex: 'half',
      } as RequestInit);
      assert.deepEqual(await form.json(), { bytes: 9, form: { a: '1', b: 'two' } });
      // Exactly at the limit is accepted.
      const atLimit = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body: 'y'.repeat(MAX_BODY_BYTES),
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(((await atLimit.json()) as { bytes: number }).bytes, MAX_BODY_BYTES);
      const over = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body: 'y'.repeat(MAX_BODY_BYTES + 1),
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(over.status, 413);
      await over.body?.cancel();
    } finally {
      await server.close(100);
    }
  });

  it("gives every reader of a body what the web platform's readers give, over real HTTP: text, JSON, form and the exact bytes", async () => {
    const { app } = makeApp();
    // Each route reads the body twice, in the orders the parties do (bytes for a signature, then text
    // or JSON or the form), after the edge has already read it.
    app.post('/read/text', async (c) =>
      c.json({ text: await c.req.text(), bytes: [...new Uint8Array(await c.req.arrayBuffer())] }),
    );
    app.post('/read/json', async (c) => c.json({ value: await c.req.json(), text: await c.req.text() }));
    app.post('/read/form', async (c) =>
      c.json({
        all: await c.req.parseBody({ all: true }),
        pairs: pairsOf(await c.req.formData()),
        text: await c.req.text(),
        bytes: [...new Uint8Array(await c.req.arrayBuffer())],
      }),
    );
    const server = await listen(app.fetch, 0, '127.0.0.1');
    try {
      const post = async (path: string, type: string, body: Uint8Array<ArrayBuffer>) =>
        (await (
          await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body })
        ).json()) as Record<string, unknown>;
      const bytes = (...parts: Array<string | number[]>) =>
        new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));
      const BOM = [0xef, 0xbb, 0xbf];
      const INVALID = [0xff, 0xfe];
      const texts = [bytes('{"a":"é"}'), bytes(BOM, '{"a":1}'), bytes('{"a":"', INVALID, '"}'), bytes('not json')];
      for (const body of texts) {
        const got = await post('/read/text', 'application/json', body);
        assert.equal(got.text, await new Response(body).text());
        // The bytes stay the bytes sent (a signature is checked over them), invalid UTF-8 included.
        assert.deepEqual(got.bytes, [...body]);
      }
      const json = await post('/read/json', 'application/json; charset=utf-8', bytes(BOM, '{"n":"∑","k":[1,2]}'));
      assert.deepEqual(json.value, { n: '∑', k: [1, 2] });
      assert.equal(json.text, '{"n":"∑","k":[1,2]}');
      const forms = [
        bytes('a=1&b=two&a=3'),
        bytes('name=J%C3%BCrgen+M%C3%BCller&empty=&=x&flag'),
        bytes(BOM, 'x=1'),
        bytes('%EF%BB%BFx=2'),
        bytes('a=%ZZ&b=%&c=', INVALID),
        bytes('k=v=w;z&line_items%5B0%5D%5Bquantity%5D=2'),
      ];
      for (const body of forms) {
        const type = 'application/x-www-form-urlencoded';
        const got = await post('/read/form', type, body);
        const platform = await new Response(body, { headers: { 'content-type': type } }).formData();
        assert.deepEqual(got.pairs, pairsOf(platform));
        assert.equal(got.text, await new Response(body).text());
        assert.deepEqual(got.bytes, [...body]);
      }
      assert.deepEqual((await post('/read/form', 'application/x-www-form-urlencoded', bytes('a=1&b=2&a=3'))).all, {
        a: ['1', '3'],
        b: '2',
      });
      // A NUL in a form field is still refused at the edge.
      const nul = await fetch(`${server.url}/read/form`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=%00',
      });
      assert.equal(nul.status, 400);
    } finally {
      await server.close(100);
    }
  });

  it('adds a header after the handler to every kind of answer it made, immutable headers included', async () => {
    const { app } = makeApp();
    app.use('/after/*', async (c, next) => {
      await next();
      setAnswerHeader(c, 'cache-control', 'no-store');
    });
    app.get('/after/html', (c) => c.html('<p>hi</p>'));
    app.get('/after/json', (c) => c.json({ ok: true }, 201));
    app.get('/after/redirect', (c) => c.redirect('/elsewhere', 303));
    // Response.redirect()'s headers are immutable: set in place throws, so the header goes on a copy.
    app.get('/after/immutable', () => Response.redirect('http://127.0.0.1/elsewhere', 302));
    const server = await listen(app.fetch, 0, '127.0.0.1');
    try {
      for (const [path, status, body] of [
        ['/after/html', 200, '<p>hi</p>'],
        ['/after/json', 201, '{"ok":true}'],
        ['/after/redirect', 303, ''],
        ['/after/immutable', 302, ''],
      ] as const) {
        const res = await fetch(`${server.url}${path}`, { redirect: 'manual' });
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('cache-control'), 'no-store', path);
        assert.equal(await res.text(), body, path);
        // The request id, set before the handler, is kept too (Hono drops it from a Response made outside the app).
        if (path !== '/after/immutable') assert.match(res.headers.get('x-request-id') ?? '', /^req_/, path);
      }
    } finally {
      await server.close(100);
    }
  });

  it('refuses a request id that could inject into logs and makes its own', async () => {
    const res = await makeApp().app.request('/healthz', { headers: { 'x-request-id': '"},{"admin":true' } });
    assert.match(res.headers.get('x-request-id') ?? '', /^req_/);
  });

  it('publishes its OpenAPI document with the registered routes', async () => {
    const doc = (await (await makeApp().app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/things']);
  });
});
