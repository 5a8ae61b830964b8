// Temporary directories for tests that are removed again: a PGlite data directory left in /tmp is
// ~40 MB, and every `npm test` would otherwise leave several behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A new directory under the system's temporary directory, removed when the test (or suite, or file) that asks for it ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Where screenshots go: COUNTERSIGN_SCREENSHOTS, kept to be looked at; else a temporary directory removed afterwards. */
export function screenshotDir(prefix: string): string {
  return process.env.COUNTERSIGN_SCREENSHOTS ?? tempDir(prefix);
}
