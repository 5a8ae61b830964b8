// Enqueue: inserts a pending job with the caller's executor, so that a state change and the job it
// implies commit (or roll back) together.
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { newId, type Id } from '../../core/ids.ts';
import { systemClock, type Clock } from '../clock.ts';
import { rows, type Executor } from '../db/database.ts';
import { jobs } from './jobs.schema.ts';

export interface EnqueueInput {
  readonly task: string;
  /** JSON-serialisable; the handler receives it as stored. */
  readonly payload?: unknown;
  /** Not before this time; default now. */
  readonly runAt?: Date;
  /** At most one job per key, ever: a second enqueue with the same key does nothing. */
  readonly key?: string;
  /** Attempts before the job is failed for good; default 10. */
  readonly maxAttempts?: number;
}

/**
 * The job's insert, the one way every enqueue writes a job: at most one per key (ON CONFLICT DO
 * NOTHING), returning its id. `onlyIf` makes it conditional on a subquery (enqueueAlong's write).
 * Exported for a statement that writes several rows with the job as one of its CTEs.
 */
export function jobInsert(input: EnqueueInput, clock: Clock, onlyIf?: SQL): { id: Id<'job'>; query: SQL } {
  if (input.task.length === 0) throw new RangeError('enqueue: task must not be empty');
  const maxAttempts = input.maxAttempts ?? 10;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`enqueue: maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  const now = clock.now();
  const id = newId('job', now);
  const at = now.toISOString();
  const query = sql`insert into ${jobs} (id, task, payload, status, run_at, max_attempts, key, created_at, updated_at)
    select ${id}, ${input.task}, ${JSON.stringify(input.payload ?? {})}::jsonb, 'pending',
           ${input.runAt?.toISOString() ?? at}::timestamptz, ${maxAttempts}, ${input.key ?? null},
           ${at}::timestamptz, ${at}::timestamptz
    ${onlyIf ? sql`where exists (${onlyIf})` : sql``}
    on conflict (key) do nothing
    returning id`;
  return { id, query };
}

/** Adds a job in the caller's transaction; returns its id, or null when a job with this key exists. */
export async function enqueue(
  executor: Executor,
  input: EnqueueInput,
  clock: Clock = systemClock,
): Promise<Id<'job'> | null> {
  const { id, query } = jobInsert(input, clock);
  const inserted = await rows<{ id: string }>(executor, query);
  return inserted.length === 1 ? id : null;
}

/** Writes that ride in enqueueAlong's statement: `first` whatever the write finds; `then(wrote)` only if it wrote. */
export interface AlongWrites {
  readonly first?: SQLWrapper;
  /** Given the subquery that finds a row only when `write` returned one: put it in an EXISTS. */
  readonly then?: (wrote: SQL) => SQLWrapper;
}

/**
 * Runs `write` (an insert, update or delete with a RETURNING clause) and, when it returned a row, adds
 * the job it implies, in ONE statement: `write` is a data-modifying CTE the job's insert depends on.
 * Both land or neither does, as two statements in one transaction would, for one round trip instead
 * of two. `wrote`: the write returned a row; `queued`: the job was added (not when its key exists).
 * `also` adds the caller's writes to the same statement (AlongWrites).
 */
export async function enqueueAlong(
  executor: Executor,
  write: SQLWrapper,
  input: EnqueueInput,
  clock: Clock = systemClock,
  also: AlongWrites = {},
): Promise<{ wrote: boolean; queued: boolean }> {
  const wrote = sql`select 1 from along`;
  const { query } = jobInsert(input, clock, wrote);
  const first = also.first ? sql`first_write as (${also.first.getSQL()}), ` : sql``;
  const then = also.then ? sql`, then_write as (${also.then(wrote).getSQL()})` : sql``;
  const [r] = await rows<{ wrote: number; queued: number }>(
    executor,
    sql`with ${first}along as (${write.getSQL()}), queued as (${query})${then}
        select (select count(*) from along)::int as wrote, (select count(*) from queued)::int as queued`,
  );
  return { wrote: Number(r?.wrote) > 0, queued: Number(r?.queued) > 0 };
}
