// Webhook signing-secret rotation under /v1 (behind the API-key auth and the idempotency middleware of
// api.routes.ts): always the calling merchant's own secrets. The new secret is in the answer only
// (and in the idempotency record that replays it to a retry of the same request), never in a log.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import { rotateSigningSecret } from '../commands/rotate-signing-secret.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { rotateSecretRoute } from './webhook-secrets.contract.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

/** Adds POST /webhook_secrets/rotate to the /v1 router. */
export function addWebhookSecretRoutes(router: OpenAPIHono<Env>, deps: { database: Database; clock: Clock }): void {
  router.openapi(rotateSecretRoute, async (c) => {
    // The body is optional: without one, the default overlap.
    const body = c.req.valid('json') as { overlap_seconds?: number } | undefined;
    const r = await rotateSigningSecret(deps, c.get('merchant').id, body?.overlap_seconds);
    return c.json(
      {
        object: 'webhook_secret' as const,
        secret: r.secret,
        fingerprint: r.fingerprint,
        created_at: r.createdAt.toISOString(),
        previous_expires_at: r.oldExpiresAt?.toISOString() ?? null,
      },
      201,
    );
  });
}
