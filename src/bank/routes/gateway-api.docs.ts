// Documents the issuer API and the bank's callback (OpenAPI 3.1, served at /openapi.json), so the
// gateway's side of the contract can be read from the running bank.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { DECLINE_REASONS } from '../domain/authorization.machine.ts';

type OpenAPIRegistry = OpenAPIHono['openAPIRegistry'];

const money = z.object({
  minor: z.string().openapi({ example: '4250' }),
  currency: z.string().openapi({ example: 'EUR' }),
});
const error = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const authorization = z
  .object({
    id: z.string().openapi({ example: 'bauth_01KAVX3Q7V3C4T2N8H5W6Y9Z0A' }),
    gateway_ref: z.string(),
    status: z.enum(['pending', 'approved', 'declined', 'captured', 'voided', 'refunded']),
    decline_reason: z.enum(DECLINE_REASONS).optional(),
    approval_expires_at: z
      .string()
      .optional()
      .openapi({ description: 'While pending on the cardholder: when the request expires (ISO 8601).' }),
    amount: money,
    captured_amount: money,
    refunded_amount: money,
  })
  .openapi('BankAuthorization');
export const signedHeaders = z.object({
  'signed-request-id': z.string().openapi({
    description:
      'New for every request, retries included; a used id is refused (409 request.replayed), whatever its first outcome.',
  }),
  'signed-request-timestamp': z
    .string()
    .openapi({ description: 'Unix seconds; refused when more than 5 minutes off.' }),
  'signed-request-signature': z.string().openapi({
    description:
      'r1,<base64 HMAC-SHA256 over method, path and query, id, timestamp and raw body>: see src/bank/README.md.',
  }),
});
const idParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
export const refused = {
  401: {
    description: 'Unsigned, forged, or timestamp out of tolerance',
    content: { 'application/json': { schema: error } },
  },
  409: {
    description: 'Replayed request id, or not possible in the current state',
    content: { 'application/json': { schema: error } },
  },
  422: { description: 'Malformed body', content: { 'application/json': { schema: error } } },
};
const ok = (description: string) => ({ description, content: { 'application/json': { schema: authorization } } });
export const SIGNED =
  'Signed by the gateway with a request signature (secret BANK_GATEWAY_KEY) over the method, the path and query, and the exact raw body (GET: the empty body); see src/bank/README.md. ' +
  'The request id is consumed before the effect, in a commit of its own: a replayed request is refused (409 request.replayed) whatever the first outcome, and changes nothing.';

/** Registers the issuer API and the decision callback in the bank's OpenAPI document. */
export function documentGatewayApi(registry: OpenAPIRegistry): void {
  documentAuthorize(registry);
  documentAuthorizationActions(registry);
  documentDecisionCallback(registry);
  registry.registerPath({
    method: 'get',
    path: '/api/v1/journey',
    summary:
      "The bank's records of one payment as journey steps (request, push, answer, callbacks, capture, void, refunds)",
    description: `${SIGNED} Read-only; an unknown reference answers an empty list.`,
    request: { headers: signedHeaders, query: z.object({ gateway_ref: z.string().min(1).max(200) }) },
    responses: {
      200: {
        description: 'The steps, each with at, from, to, label, verdict?, party "bank", ref?',
        content: { 'application/json': { schema: z.object({ steps: z.array(z.record(z.string(), z.unknown())) }) } },
      },
      ...refused,
    },
  });
}

/** Authorising, and finding the authorisation made for a gateway reference. */
function documentAuthorize(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/authorizations',
    summary: 'Authorise an amount on a card',
    description:
      `${SIGNED} Idempotent on gateway_ref (a repeat returns the same authorisation with 200). Approved and pending ` +
      'authorisations hold the amount (available balance never below zero); pending ones are decided later and the ' +
      'decision is POSTed to BANK_GATEWAY_CALLBACK_URL.',
    request: {
      headers: signedHeaders,
      body: {
        content: {
          'application/json': {
            schema: z.object({
              gateway_ref: z.string(),
              card: z.object({
                number: z.string(),
                exp_month: z.number(),
                exp_year: z.number(),
                cvc: z.string(),
                name: z.string(),
              }),
              amount: money,
              merchant: z.object({ name: z.string() }),
              description: z.string(),
              reference: z.string(),
            }),
          },
        },
      },
    },
    responses: {
      201: ok('Created: approved, declined (with decline_reason) or pending'),
      200: ok('The authorisation with this gateway_ref'),
      ...refused,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/authorizations',
    summary: 'Find the authorisation made for a gateway reference',
    description: `${SIGNED} For a gateway that lost the answer to its authorise call (it crashed before recording it).`,
    request: { headers: signedHeaders, query: z.object({ gateway_ref: z.string().min(1).max(200) }) },
    responses: {
      200: ok('The authorisation'),
      404: { description: 'No authorisation for this reference', content: { 'application/json': { schema: error } } },
      ...refused,
    },
  });
}

/** Reading, capturing, voiding and refunding an authorisation. */
function documentAuthorizationActions(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/v1/authorizations/{id}',
    summary: 'Read an authorisation',
    description: SIGNED,
    request: { headers: signedHeaders, params: idParam },
    responses: {
      200: ok('The authorisation'),
      404: { description: 'Unknown', content: { 'application/json': { schema: error } } },
      ...refused,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/authorizations/{id}/capture',
    summary: 'Capture an approved authorisation (the hold becomes a debit; any rest is released)',
    description: `${SIGNED} Idempotent: capturing a captured authorisation returns it unchanged.`,
    request: {
      headers: signedHeaders,
      params: idParam,
      body: { content: { 'application/json': { schema: z.object({ amount: money }) } } },
    },
    responses: { 200: ok('Captured'), ...refused },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/authorizations/{id}/void',
    summary: 'Void an approved or pending authorisation (the hold is released)',
    description: `${SIGNED} Idempotent. Voiding a pending one withdraws the request from the bank app.`,
    request: { headers: signedHeaders, params: idParam },
    responses: { 200: ok('Voided'), ...refused },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/authorizations/{id}/refunds',
    summary: 'Refund part or all of a capture (a credit movement)',
    description: `${SIGNED} Idempotent on refund_ref; the sum of refunds never exceeds the captured amount (409 refund.exceeds_captured).`,
    request: {
      headers: signedHeaders,
      params: idParam,
      body: { content: { 'application/json': { schema: z.object({ refund_ref: z.string(), amount: money }) } } },
    },
    responses: {
      200: {
        description: 'Refunded',
        content: {
          'application/json': { schema: z.object({ id: z.string(), status: z.literal('refunded'), authorization }) },
        },
      },
      ...refused,
    },
  });
  const payout = z.object({
    payout_id: z.string().openapi({ example: 'po_01KAVX3Q7V3C4T2N8H5W6Y9Z0A' }),
    merchant_id: z.string(),
    amount_minor: z.string().openapi({ example: '3105' }),
    currency: z.string().openapi({ example: 'EUR' }),
  });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/payouts',
    summary: "Pay a payout into the merchant's account at the bank (created on the first payout)",
    description: `${SIGNED} Idempotent on payout_id: the same payout again answers 200 and pays nothing more; the same id with other fields is refused (409 ledger.transfer_exists). A merchant whose account is closed, or a new payout above what the bank holds for the gateway in that currency, is refused (422 payout.refused, details.reason account_closed or exceeds_settlement).`,
    request: { headers: signedHeaders, body: { content: { 'application/json': { schema: payout } } } },
    responses: {
      201: {
        description: 'Paid',
        content: { 'application/json': { schema: payout.extend({ id: z.string(), status: z.literal('paid') }) } },
      },
      200: {
        description: 'Paid before (the same payout)',
        content: { 'application/json': { schema: payout.extend({ id: z.string(), status: z.literal('paid') }) } },
      },
      ...refused,
      422: {
        description: 'Refused (payout.refused) or malformed (validation.failed)',
        content: { 'application/json': { schema: error } },
      },
    },
  });
}

/** The callback the bank POSTs when a pending authorisation is decided. */
function documentDecisionCallback(registry: OpenAPIRegistry): void {
  registry.registerWebhook({
    method: 'post',
    path: 'authorization_decided',
    summary: 'A pending authorisation was decided (POSTed to BANK_GATEWAY_CALLBACK_URL)',
    description:
      'Sent when the cardholder approves or declines in the bank app, when the approval request expires (decline_reason ' +
      'approval_expired), or when a processing delay ends (approved). Signed with a request signature (secret BANK_CALLBACK_SECRET) ' +
      'over the method, the path and query of BANK_GATEWAY_CALLBACK_URL and the raw body, under a new request id on every attempt; ' +
      "callback_id is the same on every retry (dedupe on it). Written to an outbox in the decision's transaction and retried with " +
      'backoff until a 2xx answer.',
    request: {
      headers: signedHeaders,
      body: {
        content: {
          'application/json': {
            schema: z.object({
              callback_id: z.string(),
              type: z.enum(['authorization.approved', 'authorization.declined']),
              authorization_id: z.string(),
              gateway_ref: z.string(),
              decline_reason: z.enum(DECLINE_REASONS).optional(),
            }),
          },
        },
      },
    },
    responses: { 200: { description: 'Received (any 2xx)' } },
  });
}
