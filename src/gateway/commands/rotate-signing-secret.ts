// The merchant rotates its webhook signing secret (the API and the dashboard): a new secret signs at
// once, beside the previous one until the overlap ends, so that receivers can learn the new one
// without missing a delivery.
import { DomainError } from '../../core/errors.ts';
import { newWebhookSecret, secretFingerprint } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { DEFAULT_ROTATION_OVERLAP_SECONDS, rotateSecret } from '../storage/merchants.ts';

/** The longest overlap a rotation may ask for. */
export const MAX_ROTATION_OVERLAP_SECONDS = 7 * 86400;

export interface Rotation {
  /** The new secret: shown to the merchant in this answer only. */
  readonly secret: string;
  readonly fingerprint: string;
  readonly createdAt: Date;
  /** When the previous secret stops signing (null: there was none in force). */
  readonly oldExpiresAt: Date | null;
}

/** Adds a new signing secret; the previous one signs for `overlapSeconds` more (default 24 h). */
export async function rotateSigningSecret(
  deps: { database: Database; clock: Clock },
  merchantId: string,
  overlapSeconds = DEFAULT_ROTATION_OVERLAP_SECONDS,
): Promise<Rotation> {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_ROTATION_OVERLAP_SECONDS)
    throw new DomainError('validation.failed', { field: 'overlap_seconds', reason: 'from 0 to 604800' });
  const secret = newWebhookSecret();
  const r = await deps.database.transaction((tx) => rotateSecret(tx, merchantId, deps.clock, secret, overlapSeconds));
  return { secret, fingerprint: secretFingerprint(secret), createdAt: r.createdAt, oldExpiresAt: r.oldExpiresAt };
}
