/**
 * The operator rotates the webhook signing secret the gateway signs the shop's deliveries with. The
 * rotation (its Idempotency-Key and overlap) is committed before the gateway is asked; the new secret
 * is committed after. A crash or a lost answer in between leaves the rotation recorded without its
 * secret, and the next call asks again with the same key: the gateway replays the same secret, which
 * the shop then keeps. So the shop never misses a secret the gateway signs with, and one call is one
 * new secret. The secret itself is never logged and never returned: the caller gets its fingerprint.
 */
import { DomainError, isDomainError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { secretFingerprint } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import type { Database } from '../../platform/db/database.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import { claimRotation, dropRotation, learnSecret } from '../storage/webhook-secrets.ts';

export interface RotateWebhookSecretDeps {
  readonly database: Database;
  readonly clock: Clock;
  /** Absent without a gateway API key; Stripe's adapter has no rotation. */
  readonly gateway: GatewayPort | undefined;
  /** SHOP_GATEWAY_WEBHOOK_SECRETS: they stop at the end of the overlap like any older secret. */
  readonly configuredSecrets: readonly string[];
  /** Tells this node's intake to read the secrets again now. */
  readonly learnt?: () => void;
}

export interface RotatedWebhookSecret {
  readonly rotatedAt: Date;
  readonly fingerprint: string;
  /** When the gateway stops signing with the previous secret(s); null if there was none. */
  readonly oldSecretsExpireAt: Date | null;
  readonly overlapSeconds: number;
  /** True when this finished a rotation an earlier call had started (its overlap, not this call's). */
  readonly resumed: boolean;
}

/** Rotates the secret at the gateway and keeps the new one; see the header. */
export async function rotateWebhookSecret(
  deps: RotateWebhookSecretDeps,
  overlapSeconds: number,
): Promise<RotatedWebhookSecret> {
  const rotate = deps.gateway?.rotateWebhookSecret?.bind(deps.gateway);
  if (!rotate) throw new DomainError('webhook_secret.rotation_unsupported');
  const now = deps.clock.now();
  const { rotation, resumed } = await deps.database.transaction((tx) =>
    claimRotation(tx, { idempotencyKey: newId('rot', now), overlapSeconds, requestedAt: now }),
  );
  let answer;
  try {
    answer = await rotate({ idempotencyKey: rotation.idempotencyKey, overlapSeconds: rotation.overlapSeconds });
  } catch (err) {
    // The gateway's refusal (a 4xx): nothing was rotated there, so nothing is left to finish. Anything
    // else (unreachable, 5xx) may have rotated: the rotation stays recorded for the next call.
    const status = isDomainError(err) ? (err.details?.status as number | undefined) : undefined;
    if (status !== undefined && status >= 400 && status < 500)
      await dropRotation(deps.database.db, rotation.idempotencyKey);
    throw err;
  }
  crashPoint('shop.rotate_secret.after_gateway');
  await deps.database.transaction((tx) =>
    learnSecret(tx, {
      rotationKey: rotation.idempotencyKey,
      secret: answer.secret,
      addedAt: answer.createdAt,
      othersExpireAt: answer.previousExpiresAt,
      configured: deps.configuredSecrets,
    }),
  );
  deps.learnt?.();
  return {
    rotatedAt: answer.createdAt,
    fingerprint: secretFingerprint(answer.secret),
    oldSecretsExpireAt: answer.previousExpiresAt,
    overlapSeconds: rotation.overlapSeconds,
    resumed,
  };
}
