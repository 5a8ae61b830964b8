// Environment smoke test: proves what `npm test` sets up for every other test
// (the PostgreSQL cluster behind COUNTERSIGN_TEST_PG_URL and headless Chromium).
// If this fails, the failures elsewhere are probably the environment's.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { launchBrowser, withPage } from './support/browser.ts';

describe('test environment', () => {
  test('PostgreSQL 15 is reachable via COUNTERSIGN_TEST_PG_URL', async () => {
    const url = process.env.COUNTERSIGN_TEST_PG_URL;
    assert.ok(url, 'COUNTERSIGN_TEST_PG_URL must be set (npm test sets it)');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>('select version() as version');
      assert.match(rows[0]?.version ?? '', /PostgreSQL 15/);
    } finally {
      await client.end();
    }
  });

  test('headless Chromium launches and renders a page', async () => {
    const browser = await launchBrowser();
    try {
      const heading = await withPage(browser, async (page) => {
        await page.goto('data:text/html,<h1>countersign</h1>');
        return page.textContent('h1');
      });
      assert.equal(heading, 'countersign');
    } finally {
      await browser.close();
    }
  });
});
