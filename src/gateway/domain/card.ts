// Card data at the gateway: validated, then handed to the issuer port and forgotten. What we keep
// is last 4 digits, brand and a fingerprint (HMAC of the number with a gateway secret), which lets a
// merchant recognise a returning card without anyone being able to recover the number.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { luhnValid } from '../../core/test-cards.ts';

/** The card as the payer typed it; lives only for the duration of one authorisation request. */
export interface CardInput {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc: string;
  readonly name: string;
}

/** What storage may hold about a card. */
export interface CardSummary {
  readonly last4: string;
  readonly brand: string;
  readonly fingerprint: string;
}

export const cardInputSchema = z.object({
  number: z.string().max(32),
  exp_month: z.coerce.number().int(),
  exp_year: z.coerce.number().int(),
  cvc: z.string().max(8),
  name: z.string().max(100),
});

/** Field-level problems, keyed by the form field, so the page can show them inline. */
export type CardErrors = Partial<Record<'number' | 'expiry' | 'cvc' | 'name', string>>;

/** Normalises and checks a typed card against `now`; throws card.invalid with per-field errors. */
export function parseCard(raw: z.infer<typeof cardInputSchema>, now: Date): CardInput {
  const errors: CardErrors = {};
  const number = raw.number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) errors.number = 'Enter the card number (12 to 19 digits).';
  else if (!luhnValid(number)) errors.number = 'This card number is not valid; check the digits.';
  const year = raw.exp_year < 100 ? 2000 + raw.exp_year : raw.exp_year;
  if (raw.exp_month < 1 || raw.exp_month > 12 || year < 2000 || year > 2100)
    errors.expiry = 'Enter a valid expiry date (MM/YY).';
  else if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && raw.exp_month < now.getUTCMonth() + 1)) {
    errors.expiry = 'This card has expired.';
  }
  if (!/^\d{3,4}$/.test(raw.cvc)) errors.cvc = 'Enter the 3 or 4 digit security code.';
  const name = raw.name.trim();
  if (name.length === 0) errors.name = 'Enter the name on the card.';
  if (Object.keys(errors).length > 0) throw new DomainError('card.invalid', { fields: errors });
  return { number, expMonth: raw.exp_month, expYear: year, cvc: raw.cvc, name };
}

/** Brand from the number's prefix (enough for display; the issuer decides what the card is). */
export function cardBrand(number: string): string {
  if (/^4/.test(number)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard';
  if (/^3[47]/.test(number)) return 'amex';
  return 'unknown';
}

/** The storable summary of a card; the fingerprint is keyed so it cannot be brute-forced offline. */
export function summariseCard(card: CardInput, fingerprintSecret: string): CardSummary {
  return {
    last4: card.number.slice(-4),
    brand: cardBrand(card.number),
    fingerprint: createHmac('sha256', fingerprintSecret).update(card.number).digest('base64url').slice(0, 32),
  };
}
