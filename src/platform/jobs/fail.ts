// Fail: records a failed run: retried after a backoff, failed for good once attempts are spent
// (a recurring job moves on to its next recurrence instead). last_error keeps a short, redacted
// description for operators; stacks and secrets stay out of the table.
import { isDomainError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Executor } from '../db/database.ts';
import { DEFAULT_RETRY, outcomeOnFailure, type Job, type JobOutcome, type RetryPolicy } from './job-state.ts';
import { retryDelayMs } from './retry-delay.ts';
import { settleJob } from './settle.ts';

export interface FailOptions {
  readonly retry?: RetryPolicy;
  /** Jitter source in [0, 1); tests pass a constant. */
  readonly random?: () => number;
}

const MAX_ERROR_LENGTH = 500;

// Credentials that an error message may echo back: URL userinfo, bearer tokens, webhook secrets,
// API keys, `password=...` style pairs.
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [
    /\b(password|passwd|secret|token|api[_-]?key|authorization)(\s*[=:]\s*)((?:Bearer|Basic)\s+\S+|"[^"]*"|'[^']*'|\S+)/gi,
    '$1$2[redacted]',
  ],
  [/(\w+:\/\/[^\s:/@]*:)[^\s@/]+@/g, '$1[redacted]@'],
  [/\b(Bearer|Basic)\s+[\w\-.~+/=]+/gi, '$1 [redacted]'],
  [/\b(whsec|sk|pk|rk|key)_[\w\-+/=]{6,}/g, '$1_[redacted]'],
];

/** A short, redacted, one-line description of a thrown value for last_error. */
export function describeJobError(err: unknown): string {
  let text: string;
  if (isDomainError(err)) text = `${err.code}: ${err.message}${err.details ? ` ${safeJson(err.details)}` : ''}`;
  else if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else text = `non-error thrown: ${typeof err === 'string' ? err : safeJson(err)}`;
  for (const [pattern, replacement] of SECRET_PATTERNS) text = text.replace(pattern, replacement);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Records the failure of a held job; returns the outcome written, or null (nothing written) when
 * this worker no longer holds the job.
 */
export async function failJob(
  executor: Executor,
  job: Pick<Job, 'id' | 'lockedBy' | 'attempts' | 'maxAttempts' | 'runAt' | 'repeatSeconds'>,
  error: unknown,
  options: FailOptions = {},
  clock: Clock = systemClock,
): Promise<JobOutcome | null> {
  if (job.lockedBy === null) return null;
  const now = clock.now();
  const delay = retryDelayMs(job.attempts, options.retry ?? DEFAULT_RETRY, options.random);
  const outcome = outcomeOnFailure(job, now, delay);
  const claim = { id: job.id, lockedBy: job.lockedBy, attempts: job.attempts };
  return (await settleJob(executor, claim, outcome, describeJobError(error), now)) ? outcome : null;
}
