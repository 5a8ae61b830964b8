// `POST /ops/secrets/rotate` on the shop's operator surface (behind its operator-token check): rotates
// the webhook signing secret at the gateway and keeps the new one (commands/rotate-webhook-secret.ts).
// The answer says what happened by fingerprint; the secret itself never leaves the shop.
import { z } from 'zod';
import { DomainError, isDomainError } from '../../core/errors.ts';
import type { Logger } from '../../platform/log.ts';
import { rotateWebhookSecret, type RotateWebhookSecretDeps } from '../commands/rotate-webhook-secret.ts';
import { httpAnswer } from './http-answer.ts';
import type { OperatorRoutes } from './ops-guard.ts';

const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

const body = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .default(DEFAULT_OVERLAP_SECONDS),
  })
  .strict();

/** The registrar of POST /ops/secrets/rotate (mounted behind the operator guard by ops-guard.ts). */
export function secretRotationRoutes(deps: RotateWebhookSecretDeps & { log: Logger }): OperatorRoutes {
  return (ops) =>
    ops.post('/secrets/rotate', async (c) => {
      try {
        const text = await c.req.text();
        let raw: unknown = {};
        try {
          raw = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          throw new DomainError('request.malformed', { reason: 'body is not JSON' });
        }
        const parsed = body.safeParse(raw);
        if (!parsed.success)
          throw new DomainError('validation.failed', {
            field: 'overlap_seconds',
            reason: 'a whole number from 0 to 604800',
          });
        const r = await rotateWebhookSecret(deps, parsed.data.overlap_seconds);
        return c.json(
          {
            rotated_at: r.rotatedAt.toISOString(),
            new_secret_fingerprint: r.fingerprint,
            old_secrets_expire_at: r.oldSecretsExpireAt?.toISOString() ?? null,
            overlap_seconds: r.overlapSeconds,
            resumed: r.resumed,
          },
          200,
        );
      } catch (err) {
        const answer = httpAnswer(err);
        if (answer.status >= 500) deps.log.error({ failure: failureOf(err) }, 'webhook secret rotation failed');
        return c.json(answer.body, answer.status as 400);
      }
    });
}

/** What is logged of a failure: its code or the first line of its message, never a query's parameters (a secret). */
function failureOf(err: unknown): string {
  if (isDomainError(err)) return `${err.code} ${JSON.stringify(err.details ?? {})}`;
  return String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300);
}
