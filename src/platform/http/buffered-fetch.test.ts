// The parties' calls over node:http, against a real server: what arrives is what was sent (the body's
// bytes, one write, the socket kept for the next call), what comes back is fetch's Response, a
// redirect is answered not followed, and the failures are fetch's (a timeout, a refused connection,
// an answer cut short or over the limit). What does not fit goes to the fallback untouched.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { bufferedFetch, keepAliveAgents, MAX_ANSWER_BYTES } from './buffered-fetch.ts';
import { outboundFetch } from './outbound.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  socket: number;
}

describe('buffered fetch over node:http', () => {
  const seen: Seen[] = [];
  const sockets = new WeakMap<object, number>();
  let opened = 0;
  let route: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_req, res) => res.end();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!sockets.has(req.socket)) sockets.set(req.socket, ++opened);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: sockets.get(req.socket)! });
      route(req, res, body);
    });
  });
  let base = '';
  const fallbackCalls: unknown[] = [];
  const client = bufferedFetch((input, init) => {
    fallbackCalls.push(input);
    return fetch(input, init);
  }, keepAliveAgents());

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  it('sends the body byte for byte with its length, reads the answer whole, and keeps the socket', async () => {
    route = (_req, res, body) => {
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-echo': String(body.length) });
      res.end(JSON.stringify({ got: body }));
    };
    seen.length = 0;
    const body = JSON.stringify({ name: 'Zoë €', nul: 'a\u2028b' });
    for (let i = 0; i < 3; i++) {
      const res = await client(`${base}/path?q=1&q=2`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Sig': 'v1,abc' },
        body,
        redirect: 'manual',
      });
      assert.equal(res.status, 201);
      assert.equal(res.statusText, 'Made');
      assert.equal(res.ok, true);
      assert.equal(res.url, `${base}/path?q=1&q=2`);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
      assert.deepEqual(await res.clone().json(), { got: body });
      assert.equal(await res.text(), JSON.stringify({ got: body }));
    }
    assert.equal(seen.length, 3);
    for (const s of seen) {
      assert.equal(s.method, 'POST');
      assert.equal(s.url, '/path?q=1&q=2');
      assert.equal(s.body, body);
      assert.equal(s.headers['content-length'], String(Buffer.byteLength(body)));
      assert.equal(s.headers['transfer-encoding'], undefined, 'never chunked');
      assert.equal(s.headers['x-sig'], 'v1,abc');
    }
    assert.deepEqual(
      seen.map((s) => s.socket),
      [seen[0]!.socket, seen[0]!.socket, seen[0]!.socket],
      'one connection for the three calls',
    );
    assert.equal(fallbackCalls.length, 0);
  });

  it('takes headers as a Headers object or pairs, and a GET without a body', async () => {
    route = (_req, res) => res.end('fine');
    seen.length = 0;
    const headers = new Headers({ authorization: 'Bearer k' });
    assert.equal(await (await client(`${base}/a`, { headers, redirect: 'manual' })).text(), 'fine');
    assert.equal(
      await (await client(new URL(`${base}/b`), { headers: [['x-one', '1']], redirect: 'manual' })).text(),
      'fine',
    );
    assert.equal(seen[0]!.headers.authorization, 'Bearer k');
    assert.equal(seen[0]!.method, 'GET');
    assert.equal(seen[0]!.headers['content-length'], undefined);
    assert.equal(seen[1]!.headers['x-one'], '1');
  });

  it('answers a redirect with the redirect, and a 204 with an empty body', async () => {
    route = (req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `${base}/elsewhere` });
        res.end('go');
      } else {
        res.writeHead(204);
        res.end();
      }
    };
    seen.length = 0;
    const moved = await client(`${base}/moved`, { method: 'POST', body: 'x', redirect: 'manual' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), `${base}/elsewhere`);
    assert.equal(seen.length, 1, 'not followed');
    const empty = await client(`${base}/empty`, { method: 'POST', body: '', redirect: 'manual' });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    assert.equal(seen[1]!.headers['content-length'], '0');
  });

  it('fails as fetch fails: a timeout, a refused connection, an answer cut short or too large', async () => {
    route = (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 2_000);
      else if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(200);
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        for (let i = 0; i <= MAX_ANSWER_BYTES / chunk.length; i++) res.write(chunk);
        res.end();
      }
    };
    await assert.rejects(
      client(`${base}/slow`, { method: 'POST', body: 'x', redirect: 'manual', signal: AbortSignal.timeout(100) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(client(`${base}/slow`, { redirect: 'manual', signal: aborted.signal }), {
      name: 'AbortError',
    });
    const code = (err: unknown) => ((err as { cause?: { code?: string } }).cause ?? {}).code;
    await assert.rejects(client(`${base}/cut`, { redirect: 'manual' }), (err) => {
      assert.ok(err instanceof TypeError);
      return /ECONNRESET/.test(String(code(err)));
    });
    await assert.rejects(client(`${base}/big`, { redirect: 'manual' }), (err) => code(err) === 'EANSWERTOOLARGE');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      client(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x', redirect: 'manual' }),
      (err) => {
        assert.ok(err instanceof TypeError);
        return code(err) === 'ECONNREFUSED';
      },
    );
  });

  it('leaves to the fallback what does not fit: a Request, a stream body, redirects followed, another scheme', async () => {
    route = (_req, res) => res.end('ok');
    fallbackCalls.length = 0;
    await (await client(new Request(`${base}/r`), { redirect: 'manual' })).text();
    await (await client(`${base}/f`, { method: 'POST', body: 'x' })).text();
    await (
      await client(`${base}/s`, {
        method: 'POST',
        body: new Blob(['x']),
        redirect: 'manual',
      })
    ).text();
    await client('data:text/plain,hi', { redirect: 'manual' });
    assert.equal(fallbackCalls.length, 4);
  });

  it('the outbound client of every party uses it, for what fits', async () => {
    route = (_req, res) => res.end('ok');
    seen.length = 0;
    const outbound = outboundFetch(undefined);
    for (let i = 0; i < 2; i++)
      assert.equal(
        await (await outbound(`${base}/o`, { method: 'POST', body: '{}', redirect: 'manual' })).text(),
        'ok',
      );
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.headers['transfer-encoding'], undefined);
    assert.equal(seen[0]!.socket, seen[1]!.socket);
  });
});
