// `countersign start --only gateway,bank`: the gateway and the bank alone, as a stateful emulator an
// existing integration points at. It prints the API base URL, a test secret key and how to register
// a webhook endpoint; no shop runs; a payment made against it is acknowledged by the command itself;
// Ctrl-C stops both with exit 0. `--only shop` without the gateway is a usage error.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { countersign, spawnCountersign, waitForLine } from './support/cli.ts';
import { freePorts } from './support/harness/wiring.ts';

describe('countersign start --only gateway,bank', () => {
  let launcher: ChildProcess;
  let printed: string;
  let dataDir: string;
  let ports: { shop: number; gateway: number; bank: number };
  let env: Record<string, string>;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cs-cli-start-'));
    ports = await freePorts();
    env = { DATA_DIR: dataDir, SHOP_PORT: String(ports.shop), BANK_PORT: String(ports.bank) };
    launcher = spawnCountersign(['start', '--only', 'gateway,bank', '--gateway-port', String(ports.gateway)], env);
    printed = await waitForLine(launcher, /^ready in .*$/m);
  });
  after(() => {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the gateway and the bank, the API base URL, a test key and how to register a webhook endpoint', () => {
    assert.match(printed, new RegExp(`^gateway +http://127\\.0\\.0\\.1:${ports.gateway}$`, 'm'));
    assert.match(printed, /^bank +http:/m);
    assert.doesNotMatch(printed, /^shop +http/m);
    assert.match(printed, new RegExp(`^API base URL +http://127\\.0\\.0\\.1:${ports.gateway}/v1$`, 'm'));
    const key = /^test secret key +(sk_test_\S+)/m.exec(printed)?.[1];
    const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
    assert.ok(key && Object.values(secrets).includes(key), "the demo merchant's key from secrets.json");
    assert.match(printed, /webhook_endpoints/);
    assert.match(printed, /countersign listen --forward-to/);
    assert.doesNotMatch(printed, /whsec_/, 'no webhook or bank secret printed');
  });

  it('runs no shop, and a payment against it is acknowledged by `trigger` itself', async () => {
    await assert.rejects(fetch(`http://127.0.0.1:${ports.shop}/readyz`), 'nothing on the shop port');
    const cli = { ...env, GATEWAY_PORT: String(ports.gateway) };
    const r = await countersign(['trigger', 'payment.captured', '--json'], cli);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { via: string; status: string; events: { type: string }[] };
    assert.equal(out.via, 'gateway');
    assert.equal(out.status, 'captured');
    assert.deepEqual(
      out.events.map((e) => e.type),
      ['payment.authorized', 'payment.captured'],
    );
    const voided = await countersign(['trigger', 'payment.voided'], cli);
    assert.equal(voided.code, 3, 'the shop refusal needs a shop');
    assert.match(voided.stderr, /needs the shop/);
  });

  it('stops both on Ctrl-C with exit 0', async () => {
    const exited = new Promise<number | null>((r) => launcher.once('exit', (code) => r(code)));
    launcher.kill('SIGINT');
    assert.equal(await exited, 0);
  });

  it('refuses --only shop without the gateway, and an unknown party, as usage errors (2)', async () => {
    const shop = await countersign(['start', '--only', 'shop']);
    assert.equal(shop.code, 2);
    assert.match(shop.stderr, /--only shop needs gateway too/);
    const bogus = await countersign(['start', '--only', 'gateway,mint']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /expected some of bank,gateway,shop; got mint/);
  });
});
