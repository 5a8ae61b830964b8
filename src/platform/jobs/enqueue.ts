// Enqueue: inserts a pending job with the caller's executor, so that a state change and the job it
// implies commit (or roll back) together.
import { newId, type Id } from '../../core/ids.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Executor } from '../db/database.ts';
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

/** Adds a job in the caller's transaction; returns its id, or null when a job with this key exists. */
export async function enqueue(
  executor: Executor,
  input: EnqueueInput,
  clock: Clock = systemClock,
): Promise<Id<'job'> | null> {
  if (input.task.length === 0) throw new RangeError('enqueue: task must not be empty');
  const maxAttempts = input.maxAttempts ?? 10;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`enqueue: maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  const now = clock.now();
  const id = newId('job', now);
  const inserted = await executor
    .insert(jobs)
    .values({
      id,
      task: input.task,
      payload: input.payload ?? {},
      status: 'pending',
      runAt: input.runAt ?? now,
      maxAttempts,
      key: input.key ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: jobs.key })
    .returning({ id: jobs.id });
  return inserted.length === 1 ? id : null;
}
