// The guarded fetch refuses to connect where its policy says no: a literal address before anything is
// sent, a name on every address it resolves to (the resolved addresses are the ones the socket uses,
// so a name that resolves to a public address once and a private one later is still refused).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { LookupAddress } from 'node:dns';
import { describe, it } from 'node:test';
import { guardedFetch, guardedLookup } from './outbound.ts';

const onlyPublic = (address: string) => !/^(127\.|10\.|::1$)/.test(address);

describe('guarded outbound requests', () => {
  it('a name resolving to a refused address is refused; one resolving to allowed addresses passes', async () => {
    const answers: Record<string, LookupAddress[]> = {
      'rebinding.example': [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
      'public.example': [{ address: '93.184.215.14', family: 4 }],
    };
    const lookup = guardedLookup(onlyPublic, (host, _options, callback) => callback(null, answers[host] ?? []));
    const result = (host: string, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        lookup(host, { all }, (err, address) => resolve({ err, address })),
      );
    const blocked = await result('rebinding.example', false);
    assert.equal(blocked.err?.code, 'EADDRBLOCKED');
    assert.equal((await result('nowhere.example', false)).err?.code, 'EADDRBLOCKED', 'no address is no answer');
    const ok = await result('public.example', false);
    assert.equal(ok.err, null);
    assert.equal(ok.address, '93.184.215.14');
    assert.deepEqual((await result('public.example', true)).address, answers['public.example']);
  });

  it('a real request to a refused address never reaches it, by address or by name; an allowed one does', async () => {
    let reached = 0;
    const server = createServer((_req, res) => {
      reached++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const refusing = guardedFetch(undefined, onlyPublic);
      // Both ways out: through fetch, and over node:http (a string body, redirects not followed).
      for (const redirect of ['follow', 'manual'] as const) {
        for (const url of [`http://127.0.0.1:${port}/`, `http://localhost:${port}/`]) {
          await assert.rejects(refusing(url, { method: 'POST', body: 'x', redirect }), (err: unknown) => {
            assert.equal((err as { cause?: { code?: string } }).cause?.code, 'EADDRBLOCKED', `${url} ${redirect}`);
            return true;
          });
        }
      }
      assert.equal(reached, 0);
      const allowing = guardedFetch(undefined, () => true);
      assert.equal(await (await allowing(`http://localhost:${port}/`)).text(), 'ok');
      const post = { method: 'POST', body: 'x', redirect: 'manual' } as const;
      assert.equal(await (await allowing(`http://localhost:${port}/`, post)).text(), 'ok');
      assert.equal(reached, 2);
    } finally {
      server.close();
    }
  });
});
