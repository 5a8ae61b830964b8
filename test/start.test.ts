// `npm start` as a newcomer runs it: three services, each healthy and ready on its own port with its
// own database, pages that open in a real Chromium, and a Ctrl-C that stops everything cleanly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from './support/browser.ts';
import { launchSystem, PARTIES, type LaunchedSystem } from './support/harness/processes.ts';
import { freePorts } from './support/harness/wiring.ts';
import { projectRoot } from '../src/platform/project-root.ts';

describe('npm start', () => {
  let system: LaunchedSystem;
  let urls: Map<string, string>;

  before(async () => {
    system = await launchSystem();
    urls = new Map(Object.entries(system.urls));
    console.log(`npm start: three services ready in ${system.startedMs} ms`);
  });

  after(() => system.stop());

  it('prints one line per service naming it, each on its own port', () => {
    assert.deepEqual([...urls.keys()].sort(), ['bank', 'gateway', 'shop']);
    assert.equal(new Set([...urls.values()].map((u) => new URL(u).port)).size, 3);
  });

  it('gives each service its own database directory', () => {
    for (const party of ['shop', 'gateway', 'bank'])
      assert.ok(existsSync(join(system.dataDir, party, 'PG_VERSION')), party);
    // The launcher holds the directory, by its pid, while it runs.
    assert.equal(readFileSync(join(system.dataDir, 'launcher.lock'), 'utf8').trim(), String(system.launcher.pid));
  });

  it('answers healthz, readyz and metrics on every service', async () => {
    for (const [name, url] of urls) {
      assert.equal((await fetch(`${url}/healthz`)).status, 200, `${name} healthz`);
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200, `${name} readyz`);
      assert.deepEqual(await ready.json(), { status: 'ready', service: name });
      assert.match(
        await (await fetch(`${url}/metrics`)).text(),
        /http_requests_total\{[^}]*route="\/readyz"/,
        `${name} metrics`,
      );
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

  it('refuses a second start on the same DATA_DIR at once, leaving the running one serving', async () => {
    const shopLog = join(system.dataDir, 'logs', 'shop.log');
    const logBefore = statSync(shopLog).size;
    const ports = await freePorts();
    const second = spawnSync(process.execPath, ['bin/countersign.mjs', 'start'], {
      cwd: projectRoot(),
      env: {
        ...process.env,
        DATA_DIR: system.dataDir,
        ...Object.fromEntries(PARTIES.map((p) => [`${p.toUpperCase()}_PORT`, String(ports[p])])),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(second.status, 1, `${second.stdout}${second.stderr}`);
    assert.match(second.stderr, new RegExp(`is in use by another start \\(process ${system.launcher.pid}\\)`));
    assert.doesNotMatch(second.stdout, /ready in/);
    // It started nothing: no service answers on its ports, and the running one's log only grew.
    for (const p of PARTIES)
      await assert.rejects(fetch(`http://127.0.0.1:${ports[p]}/healthz`), TypeError, `${p} answered`);
    assert.ok(statSync(shopLog).size >= logBefore);
    assert.equal((await fetch(`${system.urls.shop}/readyz`)).status, 200);
  });

  it('stops all three cleanly on Ctrl-C, closing their databases', async () => {
    const exited = new Promise<number | null>((resolve) => system.launcher.once('exit', (code) => resolve(code)));
    system.launcher.kill('SIGINT');
    assert.equal(await exited, 0, system.output.join(''));
    for (const party of ['shop', 'gateway', 'bank']) {
      const log = readFileSync(join(system.dataDir, 'logs', `${party}.log`), 'utf8');
      assert.match(log, /"msg":"stopped"/, `${party} did not log a clean stop`);
    }
    assert.equal(existsSync(join(system.dataDir, 'launcher.lock')), false, 'the launcher released DATA_DIR');
  });
});
