// One crash matrix run: for each crash point (and each run of it), the target party's process is
// restarted armed with COUNTERSIGN_CRASH_AT, customers buy and pay until it dies with SIGKILL, it is
// started again unarmed, payers whose card submission died press "Pay" again, one more customer buys
// (the party serves again), and then the three databases must agree: see proof-crash-invariants.ts.
import { crashPointParty, type CrashPointName } from '../../src/platform/crash-points.ts';
import { convergence, isConsistent, type Verdict } from './proof-crash-invariants.ts';
import { catalog as readCatalog, newCustomer, payCard, runLoad, type Purchase } from './proof-crash-load.ts';
import { expireDeadLeases, type PartyProcesses, type Exit } from './harness/processes.ts';
import type { ProofRandom } from './proof.ts';
import type { ShopClient } from './shop-client.ts';

export interface CaseResult {
  readonly point: CrashPointName;
  readonly nth: number;
  readonly exit: Exit | undefined;
  readonly fired: boolean;
  readonly purchases: number;
  readonly interrupted: number;
  readonly verdict: Verdict;
  readonly recovered: boolean;
  readonly convergedMs: number;
  readonly ms: number;
  /** Milliseconds per phase (stop, armed, load, restart, after, converge). */
  readonly phases: Readonly<Record<string, number>>;
}

export interface MatrixOptions {
  readonly customers: number;
  /** Purchases each customer makes per round (rounds repeat until the target dies). */
  readonly perRound: number;
  readonly staleRate: number;
  /** Give up waiting for the crash after this long (the point is then reported as never reached). */
  readonly loadLimitMs: number;
  readonly convergeMs: number;
  readonly purchaseAfter: boolean;
}

export async function prepareCustomers(system: PartyProcesses, n: number): Promise<ShopClient[]> {
  const clients: ShopClient[] = [];
  for (let i = 0; i < n; i++) clients.push(await newCustomer(system));
  return clients;
}

export async function runCrashCase(
  system: PartyProcesses,
  clients: ShopClient[],
  point: CrashPointName,
  nth: number,
  random: ProofRandom,
  options: MatrixOptions,
): Promise<CaseResult> {
  const t0 = Date.now();
  const party = crashPointParty(point);
  const catalog = await readCatalog(system);
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    phases[name] = Date.now() - mark;
    mark = Date.now();
  };
  await system.terminate(party);
  phase('stop');
  await system.start(party, `${point}@${nth}`);
  phase('armed');

  const purchases: Purchase[] = [];
  let exit: Exit | undefined;
  const deadline = Date.now() + options.loadLimitMs;
  let round = 0;
  while (!exit && Date.now() < deadline) {
    purchases.push(
      ...(await runLoad(system, clients, random.fork(`round-${round++}`), {
        maxEach: options.perRound,
        staleRate: options.staleRate,
        stop: () => !system.alive(party),
        catalog,
      })),
    );
    exit = await system.waitExit(party, 300);
  }
  // Captures and voids run after the load, on the gateway's jobs: give them time to reach the point.
  exit ??= await system.waitExit(party, 12_000);
  const fired = exit?.signal === 'SIGKILL';
  phase('load');
  if (exit) {
    await expireDeadLeases(system, party);
    await system.start(party);
  }
  phase('restart');
  // The payer whose "Pay" died with the process presses it again (the hosted page says to retry).
  const interrupted = purchases.filter((p) => p.sessionId && p.failedAt === 'card');
  for (const p of interrupted) p.paid = await payCard(system, p.sessionId!);
  // The restarted party serves a whole purchase again (at full size; at CI size the next case's load shows it).
  if (options.purchaseAfter)
    purchases.push(
      ...(await runLoad(system, clients.slice(0, 1), random.fork('after'), {
        maxEach: 1,
        staleRate: 0,
        stop: () => false,
        catalog,
      })),
    );
  phase('after');
  const { verdict, afterMs } = await convergence(system, options.convergeMs);
  phase('converge');
  return {
    point,
    nth,
    exit,
    fired,
    purchases: purchases.length,
    interrupted: interrupted.length,
    verdict,
    recovered: fired && isConsistent(verdict),
    convergedMs: afterMs,
    ms: Date.now() - t0,
    phases,
  };
}

/** One line per case for the test's output. */
export function describeCase(r: CaseResult): string {
  const v = r.verdict;
  const problems = [
    ...v.lost,
    ...v.doubleFulfilled,
    ...v.wronglyAccepted,
    ...v.holdsLeft,
    ...v.ledger,
    ...(v.auditOk ? [] : [`audit ${v.auditDetail}`]),
    ...(v.settled ? [] : ['not settled']),
  ];
  return (
    `${r.point}@${r.nth}: ${r.fired ? 'killed' : `NOT killed (${r.exit ? (r.exit.signal ?? r.exit.code) : 'still running'})`}, ${r.purchases} purchases (${r.interrupted} card submissions retried), ` +
    `${r.recovered ? `consistent after ${r.convergedMs} ms` : `INCONSISTENT: ${problems.slice(0, 5).join('; ')}`} — debited ${v.figures.debited}, voided ${v.figures.voided}, reversed ${v.figures.reversed}, ${(r.ms / 1000).toFixed(1)} s (${Object.entries(
      r.phases,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`
  );
}
