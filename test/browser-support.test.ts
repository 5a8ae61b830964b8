// The browser tests' launcher, on a machine where Chromium is not (yet) installed: a developer who
// runs one browser test file on its own, before any `npm test`, is told how to get Chromium.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { launchBrowser } from './support/browser.ts';

describe('launching Chromium for a browser test', () => {
  const before = process.env.CHROMIUM_PATH;
  after(() => {
    if (before === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = before;
  });

  it('names the missing path and the command that installs Chromium', async () => {
    process.env.CHROMIUM_PATH = '/nonexistent/countersign/chromium';
    await assert.rejects(launchBrowser(), (err: Error) => {
      assert.match(err.message, /Chromium is not at \/nonexistent\/countersign\/chromium\./);
      assert.match(err.message, /node scripts\/ensure-chromium\.mjs/);
      return true;
    });
  });
});
