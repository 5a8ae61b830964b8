// The contract of the read side of a merchant's webhook signing secrets under /v1: what an operator's
// tool (`countersign doctor`) compares with the receiver's configuration — fingerprints, never secrets.
import { createRoute, z } from '@hono/zod-openapi';
import { errorSchema } from './views.ts';

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

export const signingSecretListSchema = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z
        .object({
          object: z.literal('webhook_secret'),
          fingerprint: z
            .string()
            .openapi({ description: 'First 8 hex digits of the SHA-256 of the secret', example: '3f9a0c1e' }),
        })
        .openapi('WebhookSecretFingerprint'),
    ),
  })
  .openapi('WebhookSecretFingerprints');

export const listSigningSecretsRoute = createRoute({
  method: 'get',
  path: '/webhook_secrets',
  security: [{ bearerAuth: [] }],
  summary: "Fingerprints of the merchant's active webhook signing secrets (never the secrets)",
  description:
    'The secrets that sign deliveries now, oldest first (two during a rotation), each as the first 8 hex digits of its ' +
    'SHA-256: a receiver compares them with the fingerprints of the secrets it verifies with.',
  responses: {
    200: { description: 'The fingerprints', content: json(signingSecretListSchema) },
    401: { description: 'Missing or invalid API key', content: json(errorSchema) },
  },
});
