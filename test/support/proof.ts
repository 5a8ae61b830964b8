// The contract every proof suite (issue 8) follows, so that `npm test` runs it at CI size and
// `npm run proof` at full size and prints one report.
//
//   COUNTERSIGN_PROOF_SIZE=full     full size (default: ci)
//   COUNTERSIGN_PROOF_SEED=<seed>   replay: every suite draws its randomness from this seed
//   COUNTERSIGN_PROOF_REPORT=<file> where recordProof appends one JSON line per suite
//
// A suite draws all its randomness from `proofRandom(seed)`, so a failure printed with its seed
// replays exactly: `COUNTERSIGN_PROOF_SEED=<seed> npm run proof -- <suite>`.
import { appendFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';

export type ProofSize = 'ci' | 'full';

/** The size this run asks for: `full` under `npm run proof`, `ci` inside `npm test`. */
export function proofSize(): ProofSize {
  return process.env.COUNTERSIGN_PROOF_SIZE === 'full' ? 'full' : 'ci';
}

/** Picks the CI or the full value of a parameter (iterations, events, processes…). */
export function sized<T>(ci: T, full: T): T {
  return proofSize() === 'full' ? full : ci;
}

/** The seed of this run: the replayed one when given, a fresh random one otherwise. */
export function proofSeed(): string {
  return process.env.COUNTERSIGN_PROOF_SEED || randomBytes(8).toString('hex');
}

export interface ProofRandom {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** An independent stream for a sub-case, derived from this seed and a label. */
  fork(label: string): ProofRandom;
}

/**
 * A deterministic random stream from a seed: SHA-256 in counter mode. Written here rather than taken
 * from a package because it is a dozen lines and replay needs nothing but the seed string.
 */
export function proofRandom(seed: string): ProofRandom {
  let counter = 0;
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  const next = (): number => {
    if (offset + 4 > pool.length) {
      pool = createHash('sha256').update(`${seed}:${counter++}`).digest();
      offset = 0;
    }
    const value = pool.readUInt32BE(offset) / 2 ** 32;
    offset += 4;
    return value;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)]!;
    },
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
    fork: (label) => proofRandom(`${seed}/${label}`),
  };
}

export interface ProofFailure {
  readonly case: string;
  readonly detail: string;
}

/** One suite's figures, as `npm run proof` prints them. */
export interface ProofReport {
  /** Short suite name: verifier, adversarial, chaos, concurrency, crash, multinode, malformed. */
  readonly suite: string;
  readonly size: ProofSize;
  readonly seed: string;
  /** Cases (or events, or submissions) tried. */
  readonly cases: number;
  /** Attacks or bad inputs the system accepted, or effects it should have refused. */
  readonly wronglyAccepted: number;
  /** Payments, events or orders lost (debited but neither paid nor voided/refunded, dropped and never recovered…). */
  readonly lost: number;
  /** Effects applied more than once (paid twice, refunded twice, fulfilled twice…). */
  readonly doubleFulfilled: number;
  /** Faults the system recovered from (dropped events reconciled, crashed steps resumed…). */
  readonly recovered: number;
  readonly failures: readonly ProofFailure[];
  /** Suite-specific figures worth printing (e.g. { deliveries: 41234, reconciledWithinOneCycle: 1000 }). */
  readonly figures?: Readonly<Record<string, number | string>>;
}

/** Appends the report to $COUNTERSIGN_PROOF_REPORT (when `npm run proof` collects them). */
export function recordProof(report: ProofReport): void {
  const file = process.env.COUNTERSIGN_PROOF_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(report)}\n`);
}

/** A message naming the seed, for assertion failures: `seed abc123 (COUNTERSIGN_PROOF_SEED=abc123 npm run proof -- chaos)`. */
export function replayHint(suite: string, seed: string): string {
  return `seed ${seed}: replay with COUNTERSIGN_PROOF_SEED=${seed} npm run proof -- ${suite}`;
}
