// The durable job table every party carries (graphile-worker's shape, kept small).
import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    task: text('task').notNull(),
    payload: jsonb('payload').notNull().default({}),
    // pending -> running -> succeeded | pending (retry, or next run of a recurring job) | failed
    status: text('status', { enum: ['pending', 'running', 'succeeded', 'failed'] })
      .notNull()
      .default('pending'),
    runAt: timestamp('run_at', { withTimezone: true }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(10),
    // A recurring job runs again this many seconds after each success.
    repeatSeconds: integer('repeat_seconds'),
    // Dedupe key: at most one job per key (recurring jobs use their name).
    key: text('key').unique(),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('jobs_claim_idx').on(t.runAt).where(sql`status in ('pending', 'running')`),
    // Retention (prune.ts) walks the succeeded jobs oldest first.
    index('jobs_succeeded_idx').on(t.updatedAt).where(sql`status = 'succeeded'`),
  ],
);
