// The test cards every party agrees on. The bank issues them to the demo cardholder; the gateway
// lists them on its hosted page and README; the behaviours are the issuer's (or, for
// `gateway_error`, the gateway's own) answer to an authorisation on that card.

export const TEST_CARD_BEHAVIOURS = [
  'approved',
  'declined',
  'insufficient_funds',
  'requires_approval',
  'approval_timeout',
  'processing_delay',
  'gateway_error',
] as const;
export type TestCardBehaviour = (typeof TEST_CARD_BEHAVIOURS)[number];

export interface TestCard {
  readonly number: string;
  readonly behaviour: TestCardBehaviour;
  readonly label: string;
}

/** Every test card: any future expiry (the demo cards expire 12/2034), CVC 123, any name. */
export const TEST_CARDS: readonly TestCard[] = Object.freeze([
  { number: '4242424242424242', behaviour: 'approved', label: 'Approved at once' },
  { number: '4000000000000002', behaviour: 'declined', label: 'Declined by the bank' },
  { number: '4000000000009995', behaviour: 'insufficient_funds', label: 'Declined: insufficient funds' },
  { number: '4000002500003155', behaviour: 'requires_approval', label: 'Needs approval in the bank app' },
  { number: '4000000000003220', behaviour: 'approval_timeout', label: 'Needs approval; the request times out' },
  { number: '4000000000000077', behaviour: 'processing_delay', label: 'Pending for a few seconds, then approved' },
  { number: '4000000000000119', behaviour: 'gateway_error', label: 'Gateway error on authorisation' },
]);

/** The Luhn check digit rule, which every real card number satisfies. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The test card with this number, if it is one. */
export function testCard(number: string): TestCard | undefined {
  return TEST_CARDS.find((c) => c.number === number);
}
