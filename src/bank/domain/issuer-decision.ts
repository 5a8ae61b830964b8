// The issuer's first answer to an authorisation request: decline at once with a reason, or place a
// hold and then approve at once, ask the cardholder, or decide after a processing delay. Pure: the
// card, the request and the time are passed in; whether the funds suffice is the hold's own
// (conditional, concurrent-safe) update, so it is not decided here.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DeclineReason } from './authorization.machine.ts';

export type CardPolicy = 'standard' | 'decline' | 'approval' | 'delayed';

export interface IssuedCard {
  readonly id: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvcHash: string;
  readonly policy: CardPolicy;
}

export interface PresentedCard {
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc: string;
}

export type IssuerDecision =
  | { readonly kind: 'decline'; readonly reason: DeclineReason }
  | { readonly kind: 'hold'; readonly then: 'approve' | 'ask' | 'delay' };

/** The stored form of a card's CVC: salted with the card id so equal CVCs hash differently. */
export function hashCvc(cardId: string, cvc: string): string {
  return createHash('sha256').update(`${cardId}:${cvc}`).digest('hex');
}

/** Whether a card with this expiry is past its last valid month at `now` (UTC). */
export function isCardExpired(expMonth: number, expYear: number, now: Date): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return expYear < year || (expYear === year && expMonth < month);
}

/** Decides what the issuer does with an authorisation on `card` (undefined: not a card we issued). */
export function decideAuthorization(card: IssuedCard | undefined, presented: PresentedCard, now: Date): IssuerDecision {
  if (card === undefined) return { kind: 'decline', reason: 'unknown_card' };
  // Past expiry, whether the card's or the one presented, reads as an expired card to the payer.
  if (isCardExpired(card.expMonth, card.expYear, now) || isCardExpired(presented.expMonth, presented.expYear, now)) {
    return { kind: 'decline', reason: 'expired_card' };
  }
  // A wrong (but unexpired) expiry is a wrong card: the number alone must not be enough.
  if (presented.expMonth !== card.expMonth || presented.expYear !== card.expYear)
    return { kind: 'decline', reason: 'card_declined' };
  const given = Buffer.from(hashCvc(card.id, presented.cvc));
  const stored = Buffer.from(card.cvcHash);
  if (given.length !== stored.length || !timingSafeEqual(given, stored))
    return { kind: 'decline', reason: 'invalid_cvc' };
  switch (card.policy) {
    case 'decline':
      return { kind: 'decline', reason: 'card_declined' };
    case 'approval':
      return { kind: 'hold', then: 'ask' };
    case 'delayed':
      return { kind: 'hold', then: 'delay' };
    case 'standard':
      return { kind: 'hold', then: 'approve' };
  }
}

/**
 * Why a hold the decision allowed was refused by the account: an account in another currency cannot
 * pay this amount at all (a card decline); in the right currency, the funds were short.
 */
export function declineForRefusedHold(accountCurrency: string | undefined, requestCurrency: string): DeclineReason {
  return accountCurrency === requestCurrency ? 'insufficient_funds' : 'card_declined';
}
