/**
 * The bounded record of webhook deliveries refused before verification (no headers, a stale or future
 * timestamp, a wrong signature, a body too large). Anyone on the internet can send those, so none gets
 * a row of its own: each is counted per (hour, reason), the first few of each (hour, reason) are kept as
 * samples for staff, and each is counted against its address's slot for the current minute. Past
 * `perAddressPerMinute`, a refused delivery from that slot is answered 429 with no write at all.
 *
 * Storage is bounded whatever the volume: reasons are a closed set of error codes, buckets older than
 * the retention are pruned by a recurring job, and addresses hash into a fixed number of slots. Slots
 * may be shared by two addresses; that only matters to strangers, since a correctly signed delivery is
 * never counted and never limited (the gateway cannot be blocked by someone sharing its address).
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { webhookRefusalSamples, webhookRefusals, webhookRefusalSources } from './tables.ts';

/** The limits of the refused-delivery record (SHOP_WEBHOOK_REFUSAL_*). */
export interface RefusalLimits {
  /** Refused deliveries one address may cause per minute; past it they are answered 429 unrecorded. */
  readonly perAddressPerMinute: number;
  /** Samples kept per reason per hour. */
  readonly samplesPerHour: number;
  /** Hours counters and samples are kept before the prune job deletes them. */
  readonly retentionHours: number;
}

export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = Object.freeze({
  perAddressPerMinute: 30,
  samplesPerHour: 5,
  retentionHours: 168,
});
/** Address slots of the rate limit: the source table never holds more rows than this. */
export const REFUSAL_SLOTS = 4096;
export const REFUSAL_PRUNE_TASK = 'shop.webhook_refusals.prune';
export const REFUSAL_PRUNE_EVERY_SECONDS = 15 * 60;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SAMPLE_BODY_CHARS = 512;
const SAMPLE_HEADER_CHARS = 120;
const SAMPLED_HEADERS = [
  'content-type',
  'content-length',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'stripe-signature',
] as const;

const floorTo = (d: Date, ms: number) => new Date(Math.floor(d.getTime() / ms) * ms);
/** The hour bucket a refusal is counted in. */
export const refusalBucket = (now: Date) => floorTo(now, HOUR_MS);
const minuteOf = (now: Date) => floorTo(now, MINUTE_MS);
/** Seconds until the current rate-limit minute ends (the Retry-After of a 429). */
export const secondsToNextMinute = (now: Date) =>
  Math.max(1, Math.ceil((minuteOf(now).getTime() + MINUTE_MS - now.getTime()) / 1000));

/** PostgreSQL text holds no U+0000; a stranger's bytes are shown, never trusted. */
const printable = (s: string, max: number) => s.replace(/\u0000/g, '\uFFFD').slice(0, max);

/** The rate-limit key of an address: an IPv6 address by its /64 (one host owns a whole /64). */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The address's slot of the rate limit. */
export function addressSlot(address: string): number {
  return createHash('sha256').update(addressKey(address)).digest().readUInt32BE(0) % REFUSAL_SLOTS;
}

/** True when the address's slot has reached the limit in the current minute (one read by primary key, no write). */
export async function refusalsLimited(
  db: Executor,
  address: string,
  now: Date,
  limits: RefusalLimits,
): Promise<boolean> {
  const [row] = await db
    .select({ count: webhookRefusalSources.count })
    .from(webhookRefusalSources)
    .where(
      and(eq(webhookRefusalSources.slot, addressSlot(address)), eq(webhookRefusalSources.windowStart, minuteOf(now))),
    );
  return (row?.count ?? 0) >= limits.perAddressPerMinute;
}

export interface Refusal {
  readonly now: Date;
  /** The refusal's error code (a closed set). */
  readonly reason: string;
  readonly address: string;
  readonly headers: (name: string) => string | undefined;
  readonly body: Uint8Array;
}

/** Counts one refused delivery; keeps it as a sample when it is among the first of its (hour, reason). */
export async function recordRefusal(db: Executor, r: Refusal, limits: RefusalLimits): Promise<void> {
  const bucket = refusalBucket(r.now);
  const [counted] = await db
    .insert(webhookRefusals)
    .values({ bucket, reason: r.reason, count: 1, lastAt: r.now })
    .onConflictDoUpdate({
      target: [webhookRefusals.bucket, webhookRefusals.reason],
      set: { count: sql`webhook_refusals.count + 1`, lastAt: r.now },
    })
    .returning({ count: webhookRefusals.count });
  // The counter's row lock orders concurrent refusals, so exactly the first `samplesPerHour` are sampled.
  if ((counted?.count ?? Infinity) <= limits.samplesPerHour) {
    const headers: Record<string, string> = { 'body-bytes': String(r.body.byteLength) };
    for (const name of SAMPLED_HEADERS) {
      const value = r.headers(name);
      if (value !== undefined) headers[name] = printable(value, SAMPLE_HEADER_CHARS);
    }
    const body = printable(Buffer.from(r.body.subarray(0, SAMPLE_BODY_CHARS * 4)).toString('utf8'), SAMPLE_BODY_CHARS);
    await db
      .insert(webhookRefusalSamples)
      .values({ bucket, reason: r.reason, receivedAt: r.now, address: printable(r.address, 64), headers, body });
  }
  // A later minute starts the slot's count afresh; a node whose clock lags never moves the window back.
  await db
    .insert(webhookRefusalSources)
    .values({
      slot: addressSlot(r.address),
      windowStart: minuteOf(r.now),
      count: 1,
      lastAddress: printable(r.address, 64),
    })
    .onConflictDoUpdate({
      target: webhookRefusalSources.slot,
      set: {
        count: sql`case when excluded.window_start > webhook_refusal_sources.window_start then 1 else webhook_refusal_sources.count + 1 end`,
        windowStart: sql`greatest(excluded.window_start, webhook_refusal_sources.window_start)`,
        lastAddress: sql`excluded.last_address`,
      },
    });
}

/**
 * Deletes counters and samples older than the retention, and slots whose minute is over; returns how
 * many of each. One statement each: the tables are bounded by construction (see the file header).
 */
export async function pruneRefusals(db: Executor, now: Date, limits: RefusalLimits) {
  const cutoff = new Date(refusalBucket(now).getTime() - limits.retentionHours * HOUR_MS);
  const counters = await db
    .delete(webhookRefusals)
    .where(lt(webhookRefusals.bucket, cutoff))
    .returning({ bucket: webhookRefusals.bucket });
  const samples = await db
    .delete(webhookRefusalSamples)
    .where(lt(webhookRefusalSamples.bucket, cutoff))
    .returning({ id: webhookRefusalSamples.id });
  const slots = await db
    .delete(webhookRefusalSources)
    .where(lt(webhookRefusalSources.windowStart, minuteOf(now)))
    .returning({ slot: webhookRefusalSources.slot });
  return { counters: counters.length, samples: samples.length, slots: slots.length };
}

/** What staff see of refused deliveries: counts per reason (last 24 h and the whole retention), samples, this minute's senders. */
export async function refusalOverview(db: Executor, now: Date) {
  const dayAgo = new Date(refusalBucket(now).getTime() - 23 * HOUR_MS);
  const [counts, samples, senders] = await Promise.all([
    db
      .select({
        reason: webhookRefusals.reason,
        lastDay:
          sql<number>`coalesce(sum(${webhookRefusals.count}) filter (where ${webhookRefusals.bucket} >= ${dayAgo.toISOString()}::timestamptz), 0)::bigint`.mapWith(
            Number,
          ),
        total: sql<number>`sum(${webhookRefusals.count})::bigint`.mapWith(Number),
        lastAt: sql<Date>`max(${webhookRefusals.lastAt})`.mapWith((v: string | Date) => new Date(v)),
      })
      .from(webhookRefusals)
      .groupBy(webhookRefusals.reason)
      .orderBy(webhookRefusals.reason),
    db.select().from(webhookRefusalSamples).orderBy(desc(webhookRefusalSamples.id)).limit(50),
    db
      .select()
      .from(webhookRefusalSources)
      .where(eq(webhookRefusalSources.windowStart, minuteOf(now)))
      .orderBy(desc(webhookRefusalSources.count))
      .limit(50),
  ]);
  return { counts, samples, senders };
}
