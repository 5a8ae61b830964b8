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

import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type LaunchOptions,
  type Page,
} from 'playwright-core';

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
  return chromium.launch({
    timeout: 60_000,
    ...rest,
    executablePath: chromiumPath(),
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
