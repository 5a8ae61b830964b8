// Proof suite "adversarial", TLS part: someone on the network stands in for a party (a DNS or routing
// hijack) and answers https with a certificate of their own. Every server-to-server client a party
// uses — the shop's gateway adapter, the gateway's bank adapter, and the one outbound client the
// webhook and callback deliveries are given — trusts only the configured CA (and the public roots).
// Each case points a real client at an impostor and counts it wrongly accepted if a single HTTP
// request (with its API key, signature or payment body) reached the impostor. Impostors: a
// certificate from an unknown CA, our CA's own certificate served as a server certificate, a genuine
// certificate reached under a name it was not issued for, and a genuine certificate that expired.
// Reports as suite 'adversarial' (scripts/proof.mjs sums the reports of the suite's files).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signWebhook, newWebhookSecret } from '../src/core/webhook-signature.ts';
import { createBankAdapter } from '../src/gateway/issuer/bank.adapter.ts';
import { systemClock } from '../src/platform/clock.ts';
import { ensureDevCertificates } from '../src/platform/dev-certificates.ts';
import { outboundFetch } from '../src/platform/http/outbound.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);

interface Impostor {
  readonly name: string;
  readonly url: string;
  readonly server: Server;
  /** Requests that got through the handshake (each one a leak). */
  readonly seen: string[];
}

async function impostor(name: string, cert: string, key: string, host = '127.0.0.1'): Promise<Impostor> {
  const seen: string[] = [];
  const server = createServer({ cert, key }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"ps_x","status":"captured"}');
  });
  // Failed handshakes are the expected outcome; they must not crash the test process.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { name, url: `https://${host}:${(server.address() as AddressInfo).port}`, server, seen };
}

describe('adversarial: an impostor with a certificate the party does not trust hears nothing', () => {
  let dir: string;
  let trustedCa: string;
  const impostors: Impostor[] = [];
  let cases = 0;
  let wronglyAccepted = 0;
  const failures: ProofFailure[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-proof-tls-'));
    const ours = await ensureDevCertificates(join(dir, 'ours'));
    trustedCa = readFileSync(ours.caFile, 'utf8');
    const stranger = await ensureDevCertificates(join(dir, 'stranger'));
    // Our CA signs a certificate that ran out a year ago.
    mkdirSync(join(dir, 'expired'));
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(dir, 'ours', f), join(dir, 'expired', f));
    const expired = await ensureDevCertificates(
      join(dir, 'expired'),
      new Date(Date.now() - 2 * 365 * 24 * 3600 * 1000),
    );
    const pem = (file: string) => readFileSync(file, 'utf8');
    impostors.push(
      await impostor('unknown CA', pem(stranger.certFile), pem(stranger.keyFile)),
      await impostor(
        'our CA certificate served as a server certificate',
        pem(ours.caFile),
        pem(join(dir, 'ours', 'ca-key.pem')),
      ),
      // Issued for 127.0.0.1, ::1 and localhost; 127.0.0.2 is loopback too but not a name on it.
      await impostor('genuine certificate under another name', pem(ours.certFile), pem(ours.keyFile), '127.0.0.2'),
      await impostor('expired certificate from our CA', pem(expired.certFile), pem(expired.keyFile)),
    );
  });

  after(async () => {
    await Promise.all(impostors.map((i) => new Promise<void>((r) => i.server.close(() => r()))));
    rmSync(dir, { recursive: true, force: true });
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases,
      wronglyAccepted,
      lost: 0,
      doubleFulfilled: 0,
      recovered: 0,
      failures,
      figures: { cases, refusedCleanly: cases - wronglyAccepted, tlsImpostorCases: cases },
    });
  });

  const fetch = () => outboundFetch(trustedCa);
  const clients: Record<string, (url: string) => Promise<unknown>> = {
    'shop → gateway (session status)': (url) =>
      createGatewayAdapter({
        baseUrl: url,
        apiKey: `sk_test_${random.int(1e9)}abcdefgh`,
        timeoutMs: 5000,
        fetch: fetch(),
      }).getSession(`ps_${random.int(1e9)}`),
    'gateway → bank (authorisation status)': (url) =>
      createBankAdapter({ baseUrl: url, key: newWebhookSecret(), clock: systemClock, fetch: fetch() }).status(
        `auth_${random.int(1e9)}`,
      ),
    'gateway → shop / bank → gateway (signed delivery)': (url) => {
      const body = JSON.stringify({ type: 'payment.authorized', id: `evt_${random.int(1e9)}` });
      const headers = signWebhook({
        id: `msg_${random.int(1e9)}`,
        timestamp: new Date(),
        body,
        secrets: [newWebhookSecret()],
      });
      return fetch()(`${url}/webhooks/gateway`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        redirect: 'manual',
      });
    },
  };

  it('refuses every impostor on every server-to-server client before a byte of HTTP is sent', async () => {
    const rounds = sized(1, 5);
    for (let round = 0; round < rounds; round++) {
      for (const imp of impostors) {
        for (const [client, call] of Object.entries(clients)) {
          cases++;
          const before = imp.seen.length;
          let threw = false;
          try {
            await call(imp.url);
          } catch {
            threw = true;
          }
          if (!threw || imp.seen.length !== before) {
            wronglyAccepted++;
            failures.push({
              case: `${client} to ${imp.name}`,
              detail: `threw=${threw}; impostor saw ${imp.seen.slice(before).join(' | ') || 'nothing'}`,
            });
          }
        }
      }
    }
    assert.deepEqual(failures, [], hint);
    // The same clients do talk to a party whose certificate our CA issued for its name.
    const genuine = await impostor(
      'genuine',
      readFileSync(join(dir, 'ours', 'server.pem'), 'utf8'),
      readFileSync(join(dir, 'ours', 'server-key.pem'), 'utf8'),
    );
    impostors.push(genuine);
    assert.equal((await fetch()(`${genuine.url}/`)).status, 200);
    assert.equal(genuine.seen.length, 1);
  });
});
