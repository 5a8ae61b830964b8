// The typed client of the gateway's native API (src/core/gateway-api.d.ts) is generated from the
// document the gateway serves at /openapi.json (`npm run client:generate`): this test fails when the
// two drift apart, naming the command that brings them back together.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLIENT_TYPES_FILE, clientTypes } from '../scripts/client-generate.ts';
import { startTestGateway } from '../src/gateway/testing.ts';

describe('the typed gateway client', () => {
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  before(async () => {
    gateway = await startTestGateway('pglite');
  });
  after(() => gateway?.stop());

  it('is what the served /openapi.json generates (else: npm run client:generate)', async () => {
    const served = await (await fetch(`${gateway.url}/openapi.json`)).json();
    const generated = await clientTypes(served);
    assert.ok(
      generated === readFileSync(CLIENT_TYPES_FILE, 'utf8'),
      `${CLIENT_TYPES_FILE} differs from what the served /openapi.json generates: run \`npm run client:generate\``,
    );
  });

  it('documents the event stream and the event with its deliveries', async () => {
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/v1/events/stream'] && doc.paths['/v1/events/{id}']);
    assert.match(readFileSync(CLIENT_TYPES_FILE, 'utf8'), /'\/v1\/events\/stream'|"\/v1\/events\/stream"/);
  });
});
