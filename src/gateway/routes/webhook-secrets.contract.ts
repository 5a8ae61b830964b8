// The contract of webhook signing-secret rotation under /v1 (documented in /openapi.json).
import { createRoute, z } from '@hono/zod-openapi';
import { errorSchema } from './views.ts';

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

export const rotateSecretBody = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .default(86400)
      .openapi({
        description:
          'How long the previous secret keeps signing beside the new one (default 24 h, at most 7 days; 0 stops it now).',
      }),
  })
  // Unknown fields are refused (a misspelt overlap must not rotate with the default).
  .strict()
  .openapi('RotateWebhookSecret');

export const rotatedSecretSchema = z
  .object({
    object: z.literal('webhook_secret'),
    secret: z.string().openapi({ description: 'The new signing secret (whsec_…): in this answer only, never again.' }),
    fingerprint: z
      .string()
      .openapi({ description: 'First 8 hex digits of the SHA-256 of the secret', example: '3f9a0c1e' }),
    created_at: z.string(),
    previous_expires_at: z
      .string()
      .nullable()
      .openapi({ description: 'When the previous secret stops signing (null: there was none).' }),
  })
  .openapi('RotatedWebhookSecret');

export const rotateSecretRoute = createRoute({
  method: 'post',
  path: '/webhook_secrets/rotate',
  security: [{ bearerAuth: [] }],
  summary: "Rotates the merchant's webhook signing secret, with an overlap",
  description:
    'Adds a new signing secret, which signs every delivery from now on. The previous one keeps signing beside it ' +
    '(two `v1,` signatures per delivery) until `previous_expires_at`, then stops; any older one stops at once. ' +
    'Honours Idempotency-Key: a retry with the same key and body answers the same secret and creates none; ' +
    'the same key with another body is 422 idempotency.key_reused.',
  request: {
    headers: z.object({
      'idempotency-key': z.string().optional().openapi({ description: 'Makes the POST safe to retry; kept 24 h.' }),
    }),
    body: { content: json(rotateSecretBody), required: false },
  },
  responses: {
    201: { description: 'The new secret (shown once)', content: json(rotatedSecretSchema) },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
    409: { description: 'idempotency.in_progress', content: json(errorSchema) },
    422: { description: 'Validation failed, or idempotency.key_reused', content: json(errorSchema) },
  },
});
