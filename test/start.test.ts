// `npm start` as a newcomer runs it: three services, each healthy and ready on its own port with its
// own database, pages that open in a real Chromium, and a Ctrl-C that stops everything cleanly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from './support/browser.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-start-'));
  let launcher: ReturnType<typeof spawn>;
  const urls = new Map<string, string>();
  const output: string[] = [];
  let startedMs = 0;

  before(async () => {
    const ports = { SHOP_PORT: await freePort(), GATEWAY_PORT: await freePort(), BANK_PORT: await freePort() };
    const t0 = Date.now();
    launcher = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stderr!.on('data', (d) => output.push(String(d)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${output.join('')}`)), 60_000);
      launcher.once('exit', (code) => reject(new Error(`launcher exited ${code}:\n${output.join('')}`)));
      createInterface({ input: launcher.stdout! }).on('line', (line) => {
        output.push(`${line}\n`);
        const m = /^(shop|gateway|bank)\s+(http:\/\/\S+)$/.exec(line);
        if (m) urls.set(m[1]!, m[2]!);
        if (line.startsWith('ready in')) {
          clearTimeout(timer);
          startedMs = Date.now() - t0;
          resolve();
        }
      });
    });
    console.log(`npm start: three services ready in ${startedMs} ms`);
  });

  after(() => {
    if (launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints one line per service naming it, each on its own port', () => {
    assert.deepEqual([...urls.keys()].sort(), ['bank', 'gateway', 'shop']);
    assert.equal(new Set([...urls.values()].map((u) => new URL(u).port)).size, 3);
  });

  it('gives each service its own database directory', () => {
    for (const party of ['shop', 'gateway', 'bank']) assert.ok(existsSync(join(dataDir, party, 'PG_VERSION')), party);
  });

  it('answers healthz, readyz and metrics on every service', async () => {
    for (const [name, url] of urls) {
      assert.equal((await fetch(`${url}/healthz`)).status, 200, `${name} healthz`);
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200, `${name} readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', service: name });
      assert.match(await (await fetch(`${url}/metrics`)).text(), /http_requests_total\{[^}]*route="\/readyz"/, `${name} metrics`);
    }
  });

  it('serves each service home page to a real Chromium', async () => {
    const browser = await launchBrowser();
    try {
      for (const [name, url] of urls) {
        const page = await browser.newPage();
        const res = await page.goto(url);
        assert.equal(res?.status(), 200, name);
        assert.match(await page.title(), new RegExp(name, 'i'));
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });

  it('stops all three cleanly on Ctrl-C, closing their databases', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    launcher.kill('SIGINT');
    assert.equal(await exited, 0, output.join(''));
    for (const party of ['shop', 'gateway', 'bank']) {
      const log = readFileSync(join(dataDir, 'logs', `${party}.log`), 'utf8');
      assert.match(log, /"msg":"stopped"/, `${party} did not log a clean stop`);
    }
  });
});
