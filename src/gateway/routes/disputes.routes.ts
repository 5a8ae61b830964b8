// The native dispute API under /v1 (behind api.routes.ts's API-key auth and idempotency): a merchant
// lists and reads its own disputes and answers one with evidence or an acceptance. Another merchant's
// dispute is the same 404 as one that does not exist.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DomainError } from '../../core/errors.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { acceptDispute, submitDisputeEvidence } from '../commands/respond-to-dispute.ts';
import { DISPUTE_REASONS, DISPUTE_STATES } from '../domain/dispute.machine.ts';
import { findDispute, listDisputes } from '../storage/disputes.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { disputeView } from './dispute-view.ts';
import { errorSchema } from './views.ts';

type Env = AppEnv<{ merchant: MerchantRow }>;

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const security = [{ bearerAuth: [] }];
const idParam = z.object({ id: z.string().min(1).max(64).openapi({ example: 'dp_01JA...' }) });

export const disputeSchema = z
  .object({
    id: z.string().openapi({ example: 'dp_01JA...' }),
    object: z.literal('dispute'),
    payment_session: z.string().openapi({ example: 'ps_01JA...' }),
    amount: z.number().int().openapi({ description: 'disputed amount, minor units', example: 2500 }),
    currency: z.string().openapi({ example: 'EUR' }),
    reason: z.enum(DISPUTE_REASONS),
    status: z.enum(DISPUTE_STATES),
    evidence_due_by: z.string().openapi({ description: 'ISO 8601; the bank decides after it' }),
    created: z.string(),
  })
  .openapi('Dispute');

const evidenceBody = z
  .object({
    // Limits checked by the command (400 dispute.evidence_invalid), not here (which would be a 422).
    text: z.string().default('').openapi({ description: 'at most 20000 characters' }),
    files: z
      .array(
        z.object({
          name: z.string().min(1).max(200),
          content_type: z.string().min(1).max(100),
          content_base64: z
            .string()
            .openapi({ description: 'at most 1 MB decoded (the request itself at most 1 MiB)' }),
        }),
      )
      .default([])
      .openapi({ description: 'at most 5 files' }),
  })
  .openapi('DisputeEvidence');

const errors = {
  400: { description: 'Evidence empty or over its limits (dispute.evidence_invalid)', content: json(errorSchema) },
  401: { description: 'Missing or invalid API key', content: json(errorSchema) },
  404: { description: 'No such dispute for this merchant', content: json(errorSchema) },
  409: { description: 'dispute.not_open: the dispute no longer needs a response', content: json(errorSchema) },
};

export const listDisputesRoute = createRoute({
  method: 'get',
  path: '/disputes',
  security,
  summary: "The merchant's disputes, newest first",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(100).default(20),
      starting_after: z
        .string()
        .max(64)
        .optional()
        .openapi({ description: 'the last dispute id of the previous page' }),
      payment_session: z.string().max(64).optional(),
    }),
  },
  responses: {
    200: {
      description: 'A page of disputes',
      content: json(z.object({ object: z.literal('list'), data: z.array(disputeSchema), has_more: z.boolean() })),
    },
    401: errors[401],
  },
});

export const getDisputeRoute = createRoute({
  method: 'get',
  path: '/disputes/{id}',
  security,
  summary: 'One dispute',
  request: { params: idParam },
  responses: { 200: { description: 'The dispute', content: json(disputeSchema) }, 401: errors[401], 404: errors[404] },
});

export const submitEvidenceRoute = createRoute({
  method: 'post',
  path: '/disputes/{id}/evidence',
  security,
  summary: 'Submit evidence (text and files); the dispute goes under_review and the bank decides',
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: evidenceBody } } } },
  responses: { 200: { description: 'The dispute, under_review', content: json(disputeSchema) }, ...errors },
});

export const acceptDisputeRoute = createRoute({
  method: 'post',
  path: '/disputes/{id}/accept',
  security,
  summary: 'Accept the dispute: the bank records it, and it is lost (the disputed amount goes back to the cardholder)',
  description:
    'The bank is asked first. It answers lost, or won when the cardholder had already withdrawn the dispute; the dispute is closed as it answered. When the bank cannot be reached nothing is recorded (502 upstream.unavailable): try again.',
  request: { params: idParam },
  responses: {
    200: { description: 'The dispute, closed: lost (or won when already withdrawn)', content: json(disputeSchema) },
    ...errors,
  },
});

/** Adds the dispute routes to the /v1 router. */
export function addDisputeRoutes(router: OpenAPIHono<Env>, deps: { gateway: GatewayDeps; wake: () => void }): void {
  const { database } = deps.gateway;

  router.openapi(listDisputesRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await listDisputes(database.db, c.get('merchant').id, {
      limit: q.limit + 1,
      before: q.starting_after,
      sessionId: q.payment_session,
    });
    const data = page.slice(0, q.limit).map(disputeView);
    return c.json({ object: 'list' as const, data, has_more: page.length > q.limit }, 200);
  });

  router.openapi(getDisputeRoute, async (c) => {
    const d = await findDispute(database.db, c.req.valid('param').id, c.get('merchant').id);
    if (!d) throw new DomainError('not_found', { resource: 'dispute' });
    return c.json(disputeView(d), 200);
  });

  router.openapi(submitEvidenceRoute, async (c) => {
    const d = await submitDisputeEvidence(deps.gateway, c.get('merchant').id, c.req.valid('param').id, {
      evidence: c.req.valid('json'),
    });
    deps.wake();
    return c.json(disputeView(d), 200);
  });

  router.openapi(acceptDisputeRoute, async (c) => {
    const d = await acceptDispute(deps.gateway, c.get('merchant').id, c.req.valid('param').id);
    deps.wake();
    return c.json(disputeView(d), 200);
  });
}
