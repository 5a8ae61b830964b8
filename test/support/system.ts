// The three services as a newcomer runs them: `src/main.ts` as a real process on free ports with its
// own data directory, and the shop steps every end-to-end test takes in Chromium.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { spkiHash } from '../../src/platform/dev-certificates.ts';
import { outboundFetch } from '../../src/platform/http/outbound.ts';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RunningSystem {
  readonly launcher: ChildProcess;
  readonly dataDir: string;
  readonly urls: { readonly shop: string; readonly gateway: string; readonly bank: string };
  /** Everything the launcher printed (for failure messages). */
  readonly output: string[];
  /** Milliseconds from spawn to "ready in". */
  readonly startedMs: number;
  /** With `tls`: the CA the launcher generated (<dataDir>/tls/ca.pem), which signed all three certificates. */
  readonly caFile: string | undefined;
  /** fetch for a test client: with `tls` it trusts the generated CA (and verifies, as the parties do). */
  readonly fetch: typeof fetch;
  /** Chromium flags that trust the generated CA by its public key (only that CA, not "any error"); none without `tls`. */
  readonly browserArgs: readonly string[];
  /** The demo merchant's API key the launcher generated. */
  demoMerchantApiKey(): string;
  /** Ctrl-C, then SIGKILL after 10 s; removes the data directory. */
  stop(): Promise<void>;
}

/** Starts `src/main.ts` (with `--tls` when asked) with its own ports and data directory and waits for "ready in". */
export async function startSystem(env: Record<string, string> = {}, options: { tls?: boolean } = {}): Promise<RunningSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cs-system-'));
  const ports = { SHOP_PORT: await freePort(), GATEWAY_PORT: await freePort(), BANK_PORT: await freePort() };
  const t0 = Date.now();
  const launcher = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(options.tls ? ['--tls'] : [])], {
    env: { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const urls = new Map<string, string>();
  launcher.stderr!.on('data', (d) => output.push(String(d)));
  try {
    await new Promise<void>((resolve, reject) => {
      // Generous: on a shared 2-core machine three services migrating and warming up can take a minute.
      const timer = setTimeout(() => reject(new Error(`not ready in 120 s:\n${output.join('')}`)), 120_000);
      launcher.once('exit', (code) => reject(new Error(`launcher exited ${code}:\n${output.join('')}`)));
      createInterface({ input: launcher.stdout! }).on('line', (line) => {
        output.push(`${line}\n`);
        const m = /^(shop|gateway|bank)\s+(https?:\/\/\S+)$/.exec(line);
        if (m) urls.set(m[1]!, m[2]!);
        if (line.startsWith('ready in')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (err) {
    launcher.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const startedMs = Date.now() - t0;
  const caFile = options.tls ? join(dataDir, 'tls', 'ca.pem') : undefined;
  const ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  return {
    launcher,
    dataDir,
    output,
    startedMs,
    caFile,
    fetch: outboundFetch(ca),
    browserArgs: ca ? [`--ignore-certificate-errors-spki-list=${spkiHash(ca)}`] : [],
    urls: { shop: urls.get('shop')!, gateway: urls.get('gateway')!, bank: urls.get('bank')! },
    demoMerchantApiKey: () =>
      (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { demoMerchantApiKey: string }).demoMerchantApiKey,
    async stop() {
      if (launcher.exitCode === null && launcher.signalCode === null) {
        launcher.kill('SIGINT');
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            launcher.kill('SIGKILL');
            r();
          }, 10_000);
          launcher.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Logs into the shop in this page's browser context. */
export async function shopLogin(page: Page, shop: string, email: string, password: string): Promise<void> {
  await page.goto(`${shop}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForLoadState();
}

/** Buys one enamel mug through the four checkout steps and presses "Pay now"; ends on the hosted page. */
export async function checkoutToHostedPage(page: Page, shop: string, gateway: string, buyer: { name: string; street: string }): Promise<string> {
  await page.goto(`${shop}/`);
  await page.getByRole('link', { name: 'Enamel mug' }).click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.goto(`${shop}/checkout`);
  await page.getByRole('link', { name: 'Continue to delivery' }).click();
  await page.getByRole('button', { name: 'Continue to address' }).click();
  await page.getByLabel('Full name').fill(buyer.name);
  await page.getByLabel('Street and number').fill(buyer.street);
  await page.getByLabel('Postal code').fill('10115');
  await page.getByLabel('City').fill('Berlin');
  await page.getByLabel('Country (two letters)').fill('DE');
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await page.getByRole('button', { name: 'Pay now' }).click();
  await page.waitForURL(new RegExp(`^${gateway}/pay/ps_`));
  return page.url().split('/').pop()!.split(/[?#]/)[0]!;
}

/** On the gateway's hosted page: enters a card (expiry 12/34, CVC 123) and submits it. */
export async function submitCard(page: Page, number: string, name: string): Promise<void> {
  await page.fill('#number', number);
  await page.fill('#exp', '12/34');
  await page.fill('#cvc', '123');
  await page.fill('#name', name);
  await page.click('#submit');
}
