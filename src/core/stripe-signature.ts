// Stripe's webhook signature, as `stripe.webhooks.constructEvent` checks it:
//   Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
// keyed with the WHOLE endpoint secret string (`whsec_…`) as UTF-8 bytes. Unlike the Standard
// Webhooks scheme of our native deliveries (src/core/webhook-signature.ts) the secret is not
// base64-decoded and there is no message id in the signed bytes: a receiver dedupes on the event id.
// The time is passed in (the signing job's clock), so the tolerance is testable.
import { createHmac, randomBytes } from 'node:crypto';

/** The hex v1 signature of a body at a time, under a secret. */
export function stripeV1Signature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

/** The `Stripe-Signature` header for one delivery attempt. */
export function stripeSignatureHeader(secret: string, at: Date, body: string): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${stripeV1Signature(secret, t, body)}`;
}

/** A fresh endpoint secret: `whsec_` and 32 random base62 characters, as Stripe's look. */
export function newStripeEndpointSecret(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // 248 = 4 × 62: bytes at or above it are skipped, so every character is equally likely.
  let out = '';
  while (out.length < 32) {
    for (const byte of randomBytes(48)) if (byte < 248 && out.length < 32) out += alphabet[byte % 62];
  }
  return `whsec_${out}`;
}
