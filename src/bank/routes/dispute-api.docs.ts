// Documents the dispute side of the bank ⇄ gateway contract in the bank's OpenAPI document: the
// merchant's answers the gateway forwards, and the two dispute callbacks the bank sends.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { DISPUTE_REASONS } from '../domain/dispute.machine.ts';
import { refused, SIGNED, signedHeaders } from './gateway-api.docs.ts';

type OpenAPIRegistry = OpenAPIHono['openAPIRegistry'];

const refParam = z.object({ ref: z.string().openapi({ param: { name: 'ref', in: 'path' }, example: 'bdsp_01K…' }) });
const dispute = z
  .object({
    id: z.string(),
    object: z.literal('dispute'),
    status: z.enum(['open', 'under_review', 'won', 'lost']),
    decided_by: z.enum(['evidence', 'accepted', 'deadline', 'withdrawn']).nullable(),
    amount_minor: z.string(),
    currency: z.string(),
  })
  .openapi('BankDispute');
const ok = { description: 'The dispute as it stands', content: { 'application/json': { schema: dispute } } };
const CALLBACK =
  'Signed with a request signature (secret BANK_CALLBACK_SECRET) over the method, the path and query of ' +
  'BANK_GATEWAY_CALLBACK_URL and the raw body, under a new request id on every attempt; callback_id is the same on ' +
  "every retry (dedupe on it). Written to the callback outbox in the dispute's transaction, retried until a 2xx.";

/** Registers the dispute endpoints and callbacks. */
export function documentDisputeApi(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/disputes/{ref}/evidence',
    summary: "The merchant's evidence on a dispute",
    description:
      `${SIGNED} Taken once, while the dispute is open: text containing losing_evidence loses it and winning_evidence ` +
      'wins it at once; other evidence is decided at the deadline (won). A repeat, or evidence arriving after the ' +
      'decision, answers the dispute as it stands and changes nothing.',
    request: {
      headers: signedHeaders,
      params: refParam,
      body: {
        content: {
          'application/json': {
            schema: z.object({
              text: z.string().max(20_000),
              files: z
                .array(z.object({ name: z.string(), content_type: z.string(), content_base64: z.string() }))
                .max(5),
            }),
          },
        },
      },
    },
    responses: { 200: ok, ...refused },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/disputes/{ref}/accept',
    summary: 'The merchant accepts the dispute: lost at once',
    description: `${SIGNED} A repeat, or an acceptance after the decision, answers the dispute as it stands.`,
    request: { headers: signedHeaders, params: refParam },
    responses: { 200: ok, ...refused },
  });
  registry.registerWebhook({
    method: 'post',
    path: 'dispute_opened',
    summary: 'A cardholder disputed a captured payment (POSTed to BANK_GATEWAY_CALLBACK_URL)',
    description: CALLBACK,
    request: {
      headers: signedHeaders,
      body: {
        content: {
          'application/json': {
            schema: z.object({
              callback_id: z.string(),
              type: z.literal('dispute.opened'),
              dispute_ref: z.string(),
              gateway_ref: z.string(),
              amount_minor: z.string(),
              currency: z.string(),
              reason: z.enum(DISPUTE_REASONS as [string, ...string[]]),
              evidence_due_by: z
                .string()
                .openapi({ description: 'ISO 8601: BANK_DISPUTE_WINDOW_SECONDS after opening' }),
            }),
          },
        },
      },
    },
    responses: { 200: { description: 'Received (any 2xx)' } },
  });
  registry.registerWebhook({
    method: 'post',
    path: 'dispute_closed',
    summary: 'The bank decided a dispute; won = the merchant won (POSTed to BANK_GATEWAY_CALLBACK_URL)',
    description: CALLBACK,
    request: {
      headers: signedHeaders,
      body: {
        content: {
          'application/json': {
            schema: z.object({
              callback_id: z.string(),
              type: z.literal('dispute.closed'),
              dispute_ref: z.string(),
              outcome: z.enum(['won', 'lost']),
            }),
          },
        },
      },
    },
    responses: { 200: { description: 'Received (any 2xx)' } },
  });
}
