// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the shop's "Pay now" (before and after the gateway call that makes the session) and its reconciliation (a feed event applied, the cursor not yet saved) —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CRASH_POINTS } from '../src/platform/crash-points.ts';
import { crashMatrixSuite } from './support/proof-crash-suite.ts';
import { projectRoot } from '../src/platform/project-root.ts';

crashMatrixSuite('shop', [
  'shop.payment.before_create_session',
  'shop.payment.after_create_session',
  'shop.reconcile.after_apply',
]);

// The points are split over six files (each fits the per-file timeout); together they must cover the
// whole table, or a new point would never be tested.
describe('crash matrix coverage', () => {
  it('the crash matrix files together run every point of CRASH_POINTS', () => {
    const dir = join(projectRoot(), 'test');
    const files = readdirSync(dir).filter((f) => /^proof-crash-[a-z]+\.test\.ts$/.test(f));
    const named = files.flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/'((?:shop|gateway)\.[a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]),
    );
    assert.deepEqual([...new Set(named)].sort(), Object.keys(CRASH_POINTS).sort());
  });
});
