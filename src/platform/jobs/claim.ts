// Claim: takes up to `limit` due jobs for one worker in a single statement. SKIP LOCKED lets any
// number of workers claim at once without waiting on or double-taking each other's rows:
//
//   update jobs set status = 'running', locked_by = $worker, locked_until = $now + lease,
//                   attempts = attempts + 1, updated_at = $now
//   where status in ('pending', 'running') and id in (select id from jobs
//       where (status = 'pending' and run_at <= $now)
//          or (status = 'running' and locked_until < $now)   -- lease expired: holder is gone
//       order by run_at for update skip locked limit $limit)
//   returning *
//
// The status write is job-state.ts's (the `claim` transition). `now` comes from the clock (a
// parameter, not the database's now()) so tests can move time.
import { and, asc, eq, inArray, lt, lte, ne, or, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { systemClock, type Clock } from '../clock.ts';
import { builtOnce, slot } from '../db/built-once.ts';
import type { Executor } from '../db/database.ts';
import { writeJobState, type Job } from './job-state.ts';
import { jobs } from './jobs.schema.ts';

export interface ClaimOptions {
  readonly workerId: string;
  readonly limit: number;
  readonly leaseSeconds: number;
}

/** Claims due jobs (and jobs whose lease expired) for this worker; returns them as now held. */
export async function claimJobs(executor: Executor, options: ClaimOptions, clock: Clock = systemClock): Promise<Job[]> {
  if (options.limit < 1) return [];
  return claim(executor).execute(claimValues(options, clock.now()));
}

/** The claim's placeholders (claimValues fills them): the poll's claim and complete.ts's share them. */
export const CLAIM_SLOTS = {
  workerId: slot('workerId', jobs.lockedBy),
  limit: sql.placeholder('limit'),
  now: slot('now', jobs.runAt),
  lockedUntil: slot('lockedUntil', jobs.lockedUntil),
} as const;

/** The values of CLAIM_SLOTS for a claim at `now`. */
export function claimValues(options: ClaimOptions, now: Date) {
  return {
    workerId: options.workerId,
    limit: options.limit,
    now,
    lockedUntil: new Date(now.getTime() + options.leaseSeconds * 1000),
  };
}

// Every worker's poll runs it: built once (builtOnce), every value a placeholder.
const claim = builtOnce((on) => claimWrite(on, CLAIM_SLOTS).prepare('claim_jobs'));

/** The claim's values: each one, or SQL standing for it. */
export interface ClaimValues {
  readonly workerId: string | SQL;
  readonly limit: number | Placeholder;
  readonly now: Date | SQL;
  readonly lockedUntil: Date | SQL;
  readonly except?: string | SQL;
}

/**
 * The claim's one statement, returning every column, from its values. complete.ts runs it beside a
 * completion and names that job in `except`: its lease may have run out, and one statement must not
 * update a row twice.
 */
export function claimWrite(executor: Executor, v: ClaimValues) {
  const due = executor
    .select({ id: jobs.id })
    .from(jobs)
    .where(
      and(
        or(
          and(eq(jobs.status, 'pending'), lte(jobs.runAt, v.now)),
          and(eq(jobs.status, 'running'), lt(jobs.lockedUntil, v.now)),
        ),
        v.except === undefined ? undefined : ne(jobs.id, v.except),
      ),
    )
    .orderBy(asc(jobs.runAt))
    .limit(v.limit)
    .for('update', { skipLocked: true });
  return writeJobState(executor, 'claim', inArray(jobs.id, due), {
    lockedBy: v.workerId,
    lockedUntil: v.lockedUntil,
    attempts: sql`${jobs.attempts} + 1`,
    updatedAt: v.now,
  }).returning();
}
