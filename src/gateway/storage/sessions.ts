// Payment session storage. Every status change goes through `transitionSession`: it asks the
// machine, writes the new status with the old one as a guard, bumps the per-session sequence, and
// appends the event (and its outbox row) in the same transaction.
import { and, eq } from 'drizzle-orm';
import { DomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { sessionMachine, type SessionEvent } from '../domain/session.machine.ts';
import { appendEvent, type EventPayload } from './events.ts';
import { paymentSessions, type SessionRow } from './tables.ts';

export interface NewSession {
  readonly merchantId: string;
  readonly amount: Money;
  readonly merchantReference: string;
  readonly description: string;
  readonly expiresAt: Date;
  readonly returnUrl: string | null;
  readonly cancelUrl: string | null;
}

/** Inserts a session in `created`. */
export async function insertSession(db: Executor, input: NewSession, clock: Clock): Promise<SessionRow> {
  const now = clock.now();
  const [row] = await db
    .insert(paymentSessions)
    .values({
      id: newId('ps', now),
      merchantId: input.merchantId,
      status: 'created',
      amountMinor: input.amount.minor,
      currency: input.amount.currency,
      merchantReference: input.merchantReference,
      description: input.description,
      expiresAt: input.expiresAt,
      returnUrl: input.returnUrl,
      cancelUrl: input.cancelUrl,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!;
}

/** A session by id, optionally scoped to its merchant (another merchant's session is not found). */
export async function findSession(db: Executor, id: string, merchantId?: string): Promise<SessionRow | undefined> {
  const where = merchantId === undefined ? eq(paymentSessions.id, id) : and(eq(paymentSessions.id, id), eq(paymentSessions.merchantId, merchantId));
  const [row] = await db.select().from(paymentSessions).where(where);
  return row;
}

/** Reads and row-locks a session for the rest of the transaction; not_found when absent. */
export async function lockSession(tx: Executor, id: string, merchantId?: string): Promise<SessionRow> {
  const where = merchantId === undefined ? eq(paymentSessions.id, id) : and(eq(paymentSessions.id, id), eq(paymentSessions.merchantId, merchantId));
  const [row] = await tx.select().from(paymentSessions).where(where).for('update');
  if (!row) throw new DomainError('not_found', { resource: 'payment_session' });
  return row;
}

type SessionPatch = Partial<Omit<typeof paymentSessions.$inferInsert, 'id' | 'merchantId' | 'status' | 'sequence'>>;

/**
 * Applies a machine event to a locked session: status, sequence + 1, the patch, and the event named by
 * the transition's effect (if any). Throws state.illegal_transition when the table says no.
 */
export async function transitionSession(
  tx: Executor,
  session: SessionRow,
  event: SessionEvent,
  clock: Clock,
  options: { patch?: SessionPatch; reason?: string | null; refund?: EventPayload['data']['refund'] } = {},
): Promise<{ session: SessionRow; event: EventPayload | null }> {
  const { state, effects } = sessionMachine.apply(session.status, event);
  const now = clock.now();
  const [updated] = await tx
    .update(paymentSessions)
    .set({ ...options.patch, status: state, sequence: session.sequence + 1, updatedAt: now })
    .where(and(eq(paymentSessions.id, session.id), eq(paymentSessions.status, session.status), eq(paymentSessions.sequence, session.sequence)))
    .returning();
  // The guard fails only when the caller did not lock the row: a bug, not a user error.
  if (!updated) throw new DomainError('conflict', { reason: 'session_changed_concurrently' });
  let written: EventPayload | null = null;
  for (const type of effects) {
    written = await appendEvent(tx, { session: updated, type, reason: options.reason ?? null, refund: options.refund }, clock);
  }
  return { session: updated, event: written };
}
