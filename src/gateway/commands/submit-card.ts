// The payer submits a card on the hosted page.
import type { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { money, type Currency } from '../../core/money.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import { cardInputSchema, parseCard, summariseCard, type CardInput } from '../domain/card.ts';
import type { AuthorizeOutcome } from '../issuer/issuer.port.ts';
import {
  findSessionWithMerchant,
  isSessionChangedConcurrently,
  lockSession,
  lockSessionWithMerchant,
  moveSession,
  type SessionMerchant,
} from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import { applyDecision } from './apply-decision.ts';
import type { GatewayDeps } from './deps.ts';

/**
 * Moves a payable session to `processing` with the card's summary; null when it has expired.
 *
 * The common case is two statements and no transaction: the session read with its merchant, then the
 * move, whose update is guarded by the status and sequence read (the move has no event to write with
 * it). Of two submits at once the guard lets one through; the other, and every case that is not a
 * payable session in time, takes the locked path: read FOR UPDATE, decide, write, in one transaction.
 */
async function startAttempt(
  deps: GatewayDeps,
  sessionId: string,
  card: CardInput,
): Promise<{ session: SessionRow; merchant: SessionMerchant } | null> {
  const { clock } = deps;
  const now = clock.now();
  const summary = summariseCard(card, deps.fingerprintSecret);
  const patch = {
    cardLast4: summary.last4,
    cardBrand: summary.brand,
    cardFingerprint: summary.fingerprint,
    cardSubmittedAt: now,
    lastError: null,
  };
  const found = await findSessionWithMerchant(deps.database.db, sessionId);
  if (found?.session.status === 'created' && found.session.expiresAt.getTime() > now.getTime()) {
    try {
      const moved = await moveSession(deps.database.db, found.session, 'submit_card', clock, { patch });
      return { session: moved.session, merchant: found.merchant };
    } catch (err) {
      if (!isSessionChangedConcurrently(err)) throw err;
    }
  }
  return deps.database.transaction(async (tx) => {
    const { session: s, merchant } = await lockSessionWithMerchant(tx, sessionId);
    if (s.status === 'created' && s.expiresAt.getTime() <= now.getTime()) {
      await moveSession(tx, s, 'expire', clock, { reason: 'session_expired' });
      return null;
    }
    if (s.status === 'expired') return null;
    if (s.status !== 'created') throw new DomainError('session.not_payable', { status: s.status });
    return { session: (await moveSession(tx, s, 'submit_card', clock, { patch })).session, merchant };
  });
}

/** Sends a session whose attempt certainly authorised nothing back to `created`, for the payer to retry. */
function failAttempt(deps: GatewayDeps, sessionId: string, lastError: string): Promise<SessionRow> {
  return deps.database.transaction(async (tx) => {
    const s = await lockSession(tx, sessionId);
    if (s.status !== 'processing') return s;
    return (await moveSession(tx, s, 'authorization_failed', deps.clock, { patch: { lastError } })).session;
  });
}

/**
 * The payer submits a card. The session row lock makes this happen at most once: a second submit
 * finds it no longer `created`. The card goes to the issuer port and is otherwise only summarised
 * (last 4, brand, fingerprint).
 */
export async function submitCard(
  deps: GatewayDeps,
  sessionId: string,
  raw: z.infer<typeof cardInputSchema>,
): Promise<SessionRow> {
  const card = parseCard(raw, deps.clock.now());
  const attempt = await startAttempt(deps, sessionId, card);
  if (attempt === null) throw new DomainError('session.expired');
  const { session: started, merchant } = attempt;
  let outcome: AuthorizeOutcome;
  try {
    crashPoint('gateway.bank.before_authorize');
    outcome = await deps.issuer.authorize({
      // The session id: a repeat after a lost answer is the same authorisation at the bank.
      gatewayRef: started.id,
      card,
      amount: money(started.amountMinor, started.currency as Currency),
      merchantName: merchant.name,
      description: started.description,
      reference: started.merchantReference,
    });
  } catch (err) {
    deps.log?.warn({ sessionId, err }, 'authorisation failed at the bank');
    return failAttempt(deps, sessionId, 'bank_unavailable');
  }
  if (outcome.status === 'failed') return failAttempt(deps, sessionId, outcome.reason);
  crashPoint('gateway.bank.after_authorize');
  const s = await applyDecision(deps, sessionId, outcome, attempt);
  if (s.status === 'authorized') crashPoint('gateway.authorize.after_commit');
  return s;
}
