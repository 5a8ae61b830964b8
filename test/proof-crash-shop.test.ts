// Crash matrix, shop half (issue 8, item 5): the shop's process killed with SIGKILL at each of its
// instrumented steps under load — before and after the gateway call that makes the session, before
// and after the webhook's commit, after the acknowledgement, in reconciliation — then restarted; the
// bank's debits, the gateway's sessions and the shop's invoices must agree, and the audit chain verify.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CRASH_POINTS, crashPointParty, type CrashPointName } from '../src/platform/crash-points.ts';
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('shop', (Object.keys(CRASH_POINTS) as CrashPointName[]).filter((p) => crashPointParty(p) === 'shop'));

// The gateway's points are split over proof-crash-gateway and proof-crash-delivery; together the three
// files must cover the whole table, or a new point would never be tested.
describe('crash matrix coverage', () => {
  it('the three crash matrix files together run every point of CRASH_POINTS', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const named = ['proof-crash-gateway.test.ts', 'proof-crash-delivery.test.ts'].flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/'(gateway\.[a-z_]+\.[a-z_]+)'/g)].map((m) => m[1]));
    const covered = new Set([...named, ...(Object.keys(CRASH_POINTS) as CrashPointName[]).filter((p) => crashPointParty(p) === 'shop')]);
    assert.deepEqual([...covered].sort(), Object.keys(CRASH_POINTS).sort());
  });
});
