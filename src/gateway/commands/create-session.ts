// A merchant opens a payment session (server to server).
import { DomainError } from '../../core/errors.ts';
import { projectStripeEvents } from '../storage/stripe-projection.ts';
import { insertSession, type NewSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

/** Opens a session in `created`; its expiry must lie in the future. */
export async function createSession(
  deps: Pick<GatewayDeps, 'database' | 'clock'>,
  input: NewSession,
): Promise<SessionRow> {
  const { database, clock } = deps;
  if (input.expiresAt.getTime() <= clock.now().getTime())
    throw new DomainError('validation.failed', { field: 'expires_at', reason: 'in_the_past' });
  return database.transaction(async (tx) => {
    const session = await insertSession(tx, input, clock);
    // A Stripe session starts as a PaymentIntent: payment_intent.created (nothing for a native one).
    await projectStripeEvents(tx, { session, type: 'payment.created' }, clock);
    return session;
  });
}
