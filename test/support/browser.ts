// Headless Chromium for tests, through playwright-core and the system
// Chromium (Debian's `chromium` package; `npm test` installs it when missing
// and exports CHROMIUM_PATH). Playwright's own browser downloads are never
// used: only the npm registry and Debian's apt repositories are reachable.
//
//   const browser = await launchBrowser();
//   try {
//     const title = await withPage(browser, async (page) => {
//       await page.goto(url);
//       return page.title();
//     });
//   } finally {
//     await browser.close();
//   }

import { existsSync } from 'node:fs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type LaunchOptions,
  type Page,
} from 'playwright-core';
import { ADDRESS } from './factories.ts';

/** Flags that keep Chromium headless, GPU-less and off the (closed) network. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Launch headless Chromium. Extra `args` are appended to CHROMIUM_ARGS. */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const { args = [], ...rest } = options;
  const executablePath = chromiumPath();
  // `npm test` installs Chromium before any test; one browser test run on its own, on a fresh
  // machine, meets a missing binary first: say how to get it rather than Playwright's download advice.
  if (!existsSync(executablePath))
    throw new Error(
      `Chromium is not at ${executablePath}. \`npm test\` installs it; before running a browser test on its own, ` +
        'run `node scripts/ensure-chromium.mjs` once (or set CHROMIUM_PATH to a Chromium binary).',
    );
  return chromium.launch({
    timeout: 60_000,
    ...rest,
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
  });
}

/**
 * Run `fn` with a fresh, isolated context and page; both are closed afterwards,
 * whether `fn` resolves or throws. Returns what `fn` returns.
 */
export async function withPage<T>(
  browser: Browser,
  fn: (page: Page, context: BrowserContext) => Promise<T>,
  contextOptions: BrowserContextOptions = {},
): Promise<T> {
  const context = await browser.newContext(contextOptions);
  try {
    const page = await context.newPage();
    return await fn(page, context);
  } finally {
    await context.close();
  }
}

// The shop steps every end-to-end test takes in Chromium.

/** Logs into the shop in this page's browser context. */
export async function shopLogin(page: Page, shop: string, email: string, password: string): Promise<void> {
  await page.goto(`${shop}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForLoadState();
}

/** Buys one enamel mug through the four checkout steps and presses "Pay now"; ends on the hosted page. */
export async function checkoutToHostedPage(
  page: Page,
  shop: string,
  gateway: string,
  buyer: { name: string; street: string },
): Promise<string> {
  await page.goto(`${shop}/`);
  await page.getByRole('link', { name: 'Enamel mug' }).click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.goto(`${shop}/checkout`);
  await page.getByRole('link', { name: 'Continue to delivery' }).click();
  await page.getByRole('button', { name: 'Continue to address' }).click();
  await page.getByLabel('Full name').fill(buyer.name);
  await page.getByLabel('Street and number').fill(buyer.street);
  await page.getByLabel('Postal code').fill(ADDRESS.postalCode);
  await page.getByLabel('City').fill(ADDRESS.city);
  await page.getByLabel('Country').selectOption('DE');
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
