// The worker: polls for due jobs, runs their handlers with bounded concurrency, heartbeats long
// runs, and settles each run through the claim guard. Many workers (in one process or on many
// nodes) may share a database; SKIP LOCKED and leases keep each run to one holder at a time.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { claimJobs } from './claim.ts';
import { DEFAULT_RETRY, type Job, type RetryPolicy } from './job-state.ts';
import { registerRecurring, type RecurringJob } from './register-recurring.ts';
import { runJob, type HandOver, type JobRunner } from './run-job.ts';

/** What a handler learns about the run it serves. */
export interface JobContext {
  readonly jobId: string;
  /** 1 for the first run, 2 for the first retry, ... (reset to 1 for each run of a recurring job). */
  readonly attempt: number;
  readonly task: string;
  /** Aborted when the worker learns it lost the lease: another worker may be running this job now. */
  readonly signal: AbortSignal;
}

/** Runs one job; throwing (or rejecting) fails the attempt. Must be idempotent: delivery is at least once. */
export type JobHandler = (payload: unknown, ctx: JobContext) => Promise<void>;

/** The slice of a pino logger the worker uses. */
export interface JobLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerOptions {
  readonly database: Database;
  readonly tasks: Readonly<Record<string, JobHandler>>;
  /** Registered (upserted) at start. */
  readonly recurring?: readonly RecurringJob[];
  /** Unique per worker; default host:pid:random. */
  readonly workerId?: string;
  /** Jobs run at once by this worker; default 1. */
  readonly concurrency?: number;
  /** Pause between polls when there is nothing to do; default 1000. */
  readonly pollIntervalMs?: number;
  /** How long a claim holds without a heartbeat; default 60. Heartbeats run every third of it. */
  readonly leaseSeconds?: number;
  readonly retry?: RetryPolicy;
  /** Jitter source for retry delays; default Math.random. */
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly log?: JobLogger;
}

export interface Worker {
  readonly id: string;
  /** Registers the recurring jobs, then polls until stop(). */
  start(): Promise<void>;
  /** Stops claiming and resolves once the jobs it is running have settled. */
  stop(): Promise<void>;
  /** Claims and runs every job due now, `concurrency` at a time, until none is due; returns how many ran. */
  runDue(): Promise<number>;
  /** Polls now instead of at the next interval (e.g. right after enqueueing). */
  wake(): void;
}

const consoleLog: JobLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** Creates a worker over a party's database; nothing runs until start() or runDue(). */
export function createWorker(options: WorkerOptions): Worker {
  const { database, tasks } = options;
  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const concurrency = options.concurrency ?? 1;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const leaseSeconds = options.leaseSeconds ?? 60;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? consoleLog;
  const failOptions = { retry: options.retry ?? DEFAULT_RETRY, random: options.random ?? Math.random };
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`worker: concurrency must be an integer ≥ 1, got ${concurrency}`);
  if (!(leaseSeconds > 0)) throw new RangeError(`worker: leaseSeconds must be > 0, got ${leaseSeconds}`);
  if (!(pollIntervalMs > 0)) throw new RangeError(`worker: pollIntervalMs must be > 0, got ${pollIntervalMs}`);

  let state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;
  // A poll found every slot busy: the next finished job polls, whatever its hand-over found.
  let wakeMissed = false;
  const runner: JobRunner = { database, tasks, workerId: id, leaseSeconds, clock, log, failOptions };

  function track(job: Job): void {
    // A completion hands its slot to the next due job in the same statement (only while running).
    const run = runJob(runner, job, () => (state === 'running' ? 1 : 0))
      // runJob never rejects; were it to, the slot is still freed and polled for.
      .catch((): HandOver => ({ ran: false, claimed: [] }))
      .then((handOver) => {
        running.delete(run);
        for (const next of handOver.claimed) track(next);
        if (state !== 'running') return;
        // Look for more at once, rather than at the next interval, unless the hand-over found nothing
        // due (or took the one job due into the freed slot, with no other slot free), and no wake found
        // every slot busy meanwhile.
        const settledByHandOver = handOver.ran && (handOver.claimed.length === 0 || running.size >= concurrency);
        if (!settledByHandOver || wakeMissed) void poll();
      });
    running.add(run);
  }

  /** Claims into the free slots until none is free or nothing more is due; never rejects. */
  async function fillSlots(): Promise<void> {
    try {
      do {
        pollAgain = false;
        const free = concurrency - running.size;
        wakeMissed = free <= 0;
        if (free <= 0) return;
        const claimed = await claimJobs(database.db, { workerId: id, limit: free, leaseSeconds }, clock);
        for (const job of claimed) track(job);
      } while (pollAgain && state === 'running');
    } catch (err) {
      log.error({ workerId: id, err }, 'jobs: poll failed; retrying at the next interval');
    }
  }

  async function poll(): Promise<void> {
    if (state !== 'running') return;
    if (polling) {
      pollAgain = true;
      return polling;
    }
    clearTimeout(timer);
    // `polling` is set before the first await, and cleared only after it, even when fillSlots
    // returns at once (all slots busy): otherwise a finished poll would look in progress forever.
    const current = fillSlots();
    polling = current;
    try {
      await current;
    } finally {
      polling = undefined;
      if (state === 'running') timer = setTimeout(() => void poll(), pollIntervalMs);
    }
  }

  return {
    id,
    async start() {
      if (state !== 'idle') throw new Error(`worker ${id} was already started`);
      state = 'starting';
      await registerRecurring(database.db, options.recurring ?? [], clock);
      if (state !== 'starting') return; // stopped while registering
      state = 'running';
      log.info({ workerId: id, concurrency, tasks: Object.keys(tasks) }, 'jobs: worker started');
      void poll();
    },
    async stop() {
      if (state === 'idle' || state === 'starting' || state === 'stopped') {
        state = 'stopped';
        return;
      }
      state = 'stopping';
      clearTimeout(timer);
      await polling;
      while (running.size > 0) await Promise.allSettled([...running]);
      state = 'stopped';
      log.info({ workerId: id }, 'jobs: worker stopped');
    },
    async runDue() {
      let ran = 0;
      for (;;) {
        const claimed = await claimJobs(database.db, { workerId: id, limit: concurrency, leaseSeconds }, clock);
        if (claimed.length === 0) return ran;
        await Promise.all(claimed.map((job) => runJob(runner, job)));
        ran += claimed.length;
      }
    },
    wake() {
      void poll();
    },
  };
}
