// Payment session storage. Every change of status or acknowledgement goes through `moveSession`: it
// asks the machines, writes the new state with the old one as a guard, bumps the per-session sequence,
// and appends the event (and its outbox row) in the same transaction.
import { and, eq, isNotNull, isNull, lt, lte } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import {
  decideAcknowledgement,
  decideSessionEvent,
  isAcknowledgementEvent,
  type AcknowledgementEvent,
  type SessionEvent,
  type SessionStatus,
} from '../domain/session.machine.ts';
import type { ApiDialect, CaptureMethod, StripeSessionExtras } from '../domain/stripe.ts';
import { appendEvent, appendNativeEvent, sessionEvent, type EventPayload } from './events.ts';
import { merchants, paymentSessions, type MerchantRow, type SessionRow } from './tables.ts';

export interface NewSession {
  readonly merchantId: string;
  readonly amount: Money;
  readonly merchantReference: string;
  readonly description: string;
  readonly expiresAt: Date;
  readonly returnUrl: string | null;
  readonly cancelUrl: string | null;
  /** Stripe sessions: the id chosen beforehand (a success_url names the Checkout Session id). */
  readonly id?: string;
  readonly api?: ApiDialect;
  readonly captureMethod?: CaptureMethod;
  readonly stripe?: StripeSessionExtras | null;
}

// Every payment starts with it: built once (builtOnce), every value a placeholder.
const newSession = builtOnce((on) => {
  const v = <C extends keyof typeof paymentSessions._.columns>(name: C) => slot(name, paymentSessions[name]);
  const now = slot('now', paymentSessions.createdAt);
  return on
    .insert(paymentSessions)
    .values({
      id: v('id'),
      merchantId: v('merchantId'),
      status: 'created',
      amountMinor: v('amountMinor'),
      currency: v('currency'),
      merchantReference: v('merchantReference'),
      description: v('description'),
      expiresAt: v('expiresAt'),
      returnUrl: v('returnUrl'),
      cancelUrl: v('cancelUrl'),
      api: v('api'),
      captureMethod: v('captureMethod'),
      stripe: v('stripe'),
      createdAt: now,
      updatedAt: now,
    })
    .returning()
    .prepare('insert_session');
});

/** Inserts a session in `created`. */
export async function insertSession(db: Executor, input: NewSession, clock: Clock): Promise<SessionRow> {
  const now = clock.now();
  const [row] = await newSession(db).execute({
    id: input.id ?? newId('ps', now),
    merchantId: input.merchantId,
    amountMinor: input.amount.minor,
    currency: input.amount.currency,
    merchantReference: input.merchantReference,
    description: input.description,
    expiresAt: input.expiresAt,
    returnUrl: input.returnUrl,
    cancelUrl: input.cancelUrl,
    api: input.api ?? 'native',
    captureMethod: input.captureMethod ?? 'on_acknowledgement',
    stripe: input.stripe ?? null,
    now,
  });
  return row!;
}

// A session by id, read or locked, with or without its merchant's scope: the gateway's most frequent
// reads, each built once (builtOnce).
const byId = eq(paymentSessions.id, slot('id', paymentSessions.id));
const byIdOfMerchant = and(byId, eq(paymentSessions.merchantId, slot('merchantId', paymentSessions.merchantId)));
const sessionById = {
  read: builtOnce((on) => on.select().from(paymentSessions).where(byId).prepare('session')),
  ofMerchant: builtOnce((on) => on.select().from(paymentSessions).where(byIdOfMerchant).prepare('merchant_session')),
  locked: builtOnce((on) => on.select().from(paymentSessions).where(byId).for('update').prepare('lock_session')),
  lockedOfMerchant: builtOnce((on) =>
    on.select().from(paymentSessions).where(byIdOfMerchant).for('update').prepare('lock_merchant_session'),
  ),
};

/** A session by id, optionally scoped to its merchant (another merchant's session is not found). */
export async function findSession(db: Executor, id: string, merchantId?: string): Promise<SessionRow | undefined> {
  const [row] = await (merchantId === undefined
    ? sessionById.read(db).execute({ id })
    : sessionById.ofMerchant(db).execute({ id, merchantId }));
  return row;
}

/** Reads and row-locks a session for the rest of the transaction; not_found when absent. */
export async function lockSession(tx: Executor, id: string, merchantId?: string): Promise<SessionRow> {
  const [row] = await (merchantId === undefined
    ? sessionById.locked(tx).execute({ id })
    : sessionById.lockedOfMerchant(tx).execute({ id, merchantId }));
  if (!row) throw new DomainError('not_found', { resource: 'payment_session' });
  return row;
}

/** What the payment path needs of a session's merchant, read with the session in one statement. */
export interface SessionMerchant {
  readonly name: string;
  readonly ackWindowSeconds: number;
}

/** lockSession, with the merchant's name and acknowledgement window read in the same statement. */
export async function lockSessionWithMerchant(
  tx: Executor,
  id: string,
): Promise<{ session: SessionRow; merchant: SessionMerchant }> {
  const [row] = await tx
    .select({ session: paymentSessions, name: merchants.name, ackWindowSeconds: merchants.ackWindowSeconds })
    .from(paymentSessions)
    .innerJoin(merchants, eq(merchants.id, paymentSessions.merchantId))
    .where(eq(paymentSessions.id, id))
    .for('update', { of: paymentSessions });
  if (!row) throw new DomainError('not_found', { resource: 'payment_session' });
  return { session: row.session, merchant: { name: row.name, ackWindowSeconds: row.ackWindowSeconds } };
}

// Read on every hosted-page view and card submission: built once, the session's id its one value.
const sessionWithMerchant = builtOnce((on) =>
  on
    .select({ session: paymentSessions, merchant: merchants })
    .from(paymentSessions)
    .innerJoin(merchants, eq(merchants.id, paymentSessions.merchantId))
    .where(eq(paymentSessions.id, slot('id', paymentSessions.id)))
    .prepare('session_with_merchant'),
);

/** A session and its merchant (the hosted page shows the merchant's name), in one statement. */
export async function findSessionWithMerchant(
  db: Executor,
  id: string,
): Promise<{ session: SessionRow; merchant: MerchantRow } | undefined> {
  const [row] = await sessionWithMerchant(db).execute({ id });
  return row;
}

type SessionPatch = Partial<
  Omit<typeof paymentSessions.$inferInsert, 'id' | 'merchantId' | 'status' | 'acknowledgement' | 'sequence'>
>;

/** Whether moveSession refused because the row was no longer as read (its guard matched nothing). */
export function isSessionChangedConcurrently(err: unknown): boolean {
  return (
    err instanceof DomainError && err.code === 'conflict' && err.details?.reason === 'session_changed_concurrently'
  );
}

/** The guard of every session write: the row still has the status and sequence it was read with. */
function unchanged(session: SessionRow) {
  return and(
    eq(paymentSessions.id, session.id),
    eq(paymentSessions.status, session.status),
    eq(paymentSessions.sequence, session.sequence),
  );
}

/**
 * The one writer of a session's `status` and `acknowledgement`. Applies an event to a session the
 * caller has locked: asks the machines (`decideSessionEvent`, `decideAcknowledgement`), and throws
 * state.illegal_transition when they say no. A status event also bumps the sequence and appends the
 * event named by the transition's effect (if any); an acknowledgement event changes no sequence and
 * emits nothing (its consequence, capture or void, is a status event of its own).
 */
export async function moveSession(
  tx: Executor,
  session: SessionRow,
  event: SessionEvent | AcknowledgementEvent,
  clock: Clock,
  options: { patch?: SessionPatch; reason?: string | null; refund?: EventPayload['data']['refund'] } = {},
): Promise<{ session: SessionRow; event: EventPayload | null }> {
  const now = clock.now();
  const guard = unchanged(session);
  if (isAcknowledgementEvent(event)) {
    const [updated] = await acknowledgementUpdate(tx, session, event, now, options.patch);
    if (!updated) throw new DomainError('conflict', { reason: 'session_changed_concurrently' });
    return { session: updated, event: null };
  }
  const verdict = decideSessionEvent(session, event);
  if (!verdict.ok) throw verdict.error;
  const set = { ...options.patch, status: verdict.state, sequence: session.sequence + 1, updatedAt: now };
  const [only, ...more] = verdict.effects;
  if (session.api !== 'stripe' && only !== undefined && more.length === 0) {
    // A native session's one event: the update and the event's append (with its delivery) in one
    // statement. The row as updated is the read one with what was set: the guard pins every other
    // column, and no trigger writes this table.
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    const updated = { ...session, ...defined } as SessionRow;
    const e = sessionEvent(
      { session: updated, type: only, reason: options.reason ?? null, refund: options.refund },
      now,
    );
    const write = tx.update(paymentSessions).set(set).where(guard).returning({ id: paymentSessions.id });
    if (!(await appendNativeEvent(tx, e, clock, write)))
      throw new DomainError('conflict', { reason: 'session_changed_concurrently' });
    return { session: updated, event: e.payload };
  }
  const [updated] = await tx.update(paymentSessions).set(set).where(guard).returning();
  // The guard fails only when the caller did not lock the row: a bug, not a user error.
  if (!updated) throw new DomainError('conflict', { reason: 'session_changed_concurrently' });
  let written: EventPayload | null = null;
  for (const type of verdict.effects) {
    written = await appendEvent(
      tx,
      { session: updated, type, reason: options.reason ?? null, refund: options.refund },
      clock,
    );
  }
  return { session: updated, event: written };
}

/**
 * moveSession's write of an acknowledgement event, as a statement not yet run: the machine decides
 * (state.illegal_transition when it says no), and the update is guarded by the session's status and
 * sequence and by no acknowledgement yet, so it changes nothing (returns no row) when the session is
 * not as read. Run by moveSession, or with the job it implies (enqueueAlong) on a row read unlocked.
 */
export function acknowledgementUpdate(
  db: Executor,
  session: SessionRow,
  event: AcknowledgementEvent,
  now: Date,
  patch?: SessionPatch,
) {
  const verdict = decideAcknowledgement(session, event, now);
  if (!verdict.ok) throw verdict.error;
  return db
    .update(paymentSessions)
    .set({ ...patch, acknowledgement: verdict.state, updatedAt: now })
    .where(and(unchanged(session), isNull(paymentSessions.acknowledgement)))
    .returning();
}

/** Ids of unpaid sessions in `created` whose expiry has passed. */
export async function listExpiredSessionIds(db: Executor, now: Date, limit = 100): Promise<string[]> {
  const rows = await db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, 'created'), lte(paymentSessions.expiresAt, now)))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Ids of authorised sessions still awaiting their acknowledgement whose deadline has passed. */
export async function listOverdueAcknowledgementIds(db: Executor, now: Date): Promise<string[]> {
  const rows = await db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(
      and(
        eq(paymentSessions.status, 'authorized'),
        isNull(paymentSessions.acknowledgement),
        lte(paymentSessions.ackDeadline, now),
      ),
    );
  return rows.map((r) => r.id);
}

/** Ids of authorised sessions whose acknowledgement is decided but not settled since `before`. */
export async function listUnsettledIds(db: Executor, before: Date, limit = 50): Promise<string[]> {
  const rows = await db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(
      and(
        eq(paymentSessions.status, 'authorized'),
        isNotNull(paymentSessions.acknowledgement),
        lt(paymentSessions.updatedAt, before),
      ),
    )
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Ids of sessions in `status` not changed since `before`. */
export async function listStaleIds(db: Executor, status: SessionStatus, before: Date, limit = 50): Promise<string[]> {
  const rows = await db
    .select({ id: paymentSessions.id })
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, status), lt(paymentSessions.updatedAt, before)))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Sessions in `status` not changed since `before`. */
export async function listStaleSessions(
  db: Executor,
  status: SessionStatus,
  before: Date,
  limit = 50,
): Promise<SessionRow[]> {
  return db
    .select()
    .from(paymentSessions)
    .where(and(eq(paymentSessions.status, status), lt(paymentSessions.updatedAt, before)))
    .limit(limit);
}

/** Locks a session still in `status` and unchanged since `before`, skipping one another transaction holds. */
export async function lockStaleSession(
  tx: Executor,
  id: string,
  status: SessionStatus,
  before: Date,
): Promise<SessionRow | undefined> {
  const [row] = await tx
    .select()
    .from(paymentSessions)
    .where(and(eq(paymentSessions.id, id), eq(paymentSessions.status, status), lt(paymentSessions.updatedAt, before)))
    .for('update', { skipLocked: true });
  return row;
}

/** Replaces a Stripe session's extras (the PaymentMethod a confirm names); not a status column. */
export async function setStripeExtras(db: Executor, id: string, stripe: StripeSessionExtras): Promise<void> {
  await db.update(paymentSessions).set({ stripe }).where(eq(paymentSessions.id, id));
}
