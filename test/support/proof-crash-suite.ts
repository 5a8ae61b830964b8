// The crash matrix as a test suite (one per file, all reporting as suite "crash"): one test
// per crash point, each run `sized(1, 5)` times at `sized(first, random n-th)` occurrences.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crashPointParty, type CrashPointName } from '../../src/platform/crash-points.ts';
import { assertVerdict } from './proof-crash-invariants.ts';
import {
  describeCase,
  prepareCustomers,
  runCrashCase,
  type CaseResult,
  type MatrixOptions,
} from './proof-crash-matrix.ts';
import { startPartyProcesses, type PartyProcesses } from './harness/processes.ts';
import { proofRandom, proofSeed, proofSize, recordProof, replayHint, sized, type ProofFailure } from './proof.ts';
import type { ShopClient } from './shop-client.ts';

const SUITE = 'crash';

/**
 * `gateway`: the gateway the shop pays through (SHOP_GATEWAY): ours (native API, the webhook's answer
 * is the verdict) or stripe (the shop's Stripe adapter against our gateway's Stripe API: Stripe
 * webhooks, the verdict a capture or cancel call from the shop's jobs). A point must be on the path
 * of that gateway, or it never fires and the case fails.
 */
export function crashMatrixSuite(
  half: string,
  points: readonly CrashPointName[],
  gateway: 'ours' | 'stripe' = 'ours',
): void {
  const seed = proofSeed();
  const random = proofRandom(`${seed}/${half}`);
  const hint = replayHint(SUITE, seed);
  const runs = sized(1, 5);
  const options: MatrixOptions = {
    customers: sized(2, 5),
    perRound: sized(1, 2),
    staleRate: sized(0.2, 0.25),
    loadLimitMs: sized(20_000, 60_000),
    convergeMs: sized(40_000, 90_000),
    purchaseAfter: sized(false, true),
  };
  const results: CaseResult[] = [];
  let system: PartyProcesses;
  let clients: ShopClient[];

  const on = gateway === 'stripe' ? ', the shop on its Stripe adapter' : '';
  describe(`crash matrix (${half}${on}): SIGKILL at each instrumented step under load, restart, then the bank, gateway and shop agree`, () => {
    before(async () => {
      system = await startPartyProcesses({ SHOP_GATEWAY: gateway });
      clients = await prepareCustomers(system, options.customers);
    });
    after(async () => {
      await system?.stop();
      const failures: ProofFailure[] = [];
      for (const r of results) {
        if (!r.fired)
          failures.push({
            case: `${r.point}@${r.nth}`,
            detail: `crash point never fired (${r.exit ? (r.exit.signal ?? r.exit.code) : 'still running'})`,
          });
        const v = r.verdict;
        for (const d of [
          ...v.lost,
          ...v.doubleFulfilled,
          ...v.wronglyAccepted,
          ...v.holdsLeft,
          ...v.ledger,
          ...(v.auditOk ? [] : [`audit chain ${v.auditDetail}`]),
          ...(v.settled ? [] : ['not settled']),
        ]) {
          failures.push({ case: `${r.point}@${r.nth}`, detail: d });
        }
      }
      const last = results.at(-1)?.verdict;
      recordProof({
        suite: SUITE,
        size: proofSize(),
        seed,
        cases: results.length,
        // Counted per case from the verdict after it (the verdict is over everything so far, so a
        // defect left by one case is counted again by the next: the maximum is the honest figure).
        wronglyAccepted: Math.max(0, ...results.map((r) => r.verdict.wronglyAccepted.length)),
        lost: Math.max(0, ...results.map((r) => r.verdict.lost.length + r.verdict.holdsLeft.length)),
        doubleFulfilled: Math.max(0, ...results.map((r) => r.verdict.doubleFulfilled.length)),
        recovered: results.filter((r) => r.recovered).length,
        failures,
        figures: {
          [`${half}Points`]: new Set(results.map((r) => r.point)).size,
          [`${half}Fired`]: results.filter((r) => r.fired).length,
          [`${half}Purchases`]: results.reduce((n, r) => n + r.purchases, 0),
          [`${half}Debited`]: last?.figures.debited ?? 0,
          [`${half}Voided`]: last?.figures.voided ?? 0,
          [`${half}Reversed`]: last?.figures.reversed ?? 0,
          [`${half}MaxConvergeMs`]: Math.max(0, ...results.map((r) => r.convergedMs)),
        },
      });
    });

    // COUNTERSIGN_CRASH_ONLY=<point>,<point> narrows a replay to the points that failed.
    const only = process.env.COUNTERSIGN_CRASH_ONLY?.split(',').filter(Boolean);
    for (const point of only ? points.filter((p) => only.includes(p)) : points) {
      it(`killed at ${point}, the system recovers: every debit paid or released, nothing twice, audit intact`, async () => {
        for (let run = 0; run < runs; run++) {
          const r = random.fork(`${point}/${run}`);
          const nth = sized(1, 1 + r.int(3));
          const result = await runCrashCase(system, clients, point, nth, r, options);
          results.push(result);
          console.log(`  ${describeCase(result)}`);
          const what = `${point}@${nth}`;
          assert.ok(
            result.fired,
            `${what}: the crash point never fired, so the matrix did not test it (${result.exit ? `exit ${result.exit.signal ?? result.exit.code}` : 'process still running'}); ${hint}\n${system.log(crashPointParty(point))}`,
          );
          assertVerdict(result.verdict, what, hint, result.convergedMs);
        }
      });
    }
  });
}
