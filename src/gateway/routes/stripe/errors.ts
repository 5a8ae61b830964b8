// Stripe's error shape, `{ "error": { "type", "code", "message", "param", "decline_code" } }`, and the one
// mapper of the Stripe edge: a StripeApiError thrown by a Stripe route is answered as it is; a
// DomainError from a command is translated by the table below (the native edge maps the same codes
// with src/core/errors.ts). Statuses as Stripe's: 400 invalid request, 401 bad key, 402 card error,
// 404 resource_missing, 409 conflict, 429 rate limit, 5xx api_error.
import { isDomainError, type ErrorCode } from '../../../core/errors.ts';
import type { Logger } from '../../../platform/log.ts';

export type StripeErrorType =
  | 'invalid_request_error'
  | 'card_error'
  | 'idempotency_error'
  | 'api_error'
  | 'rate_limit_error'
  | 'authentication_error';

export interface StripeErrorBody {
  readonly type: StripeErrorType;
  readonly message: string;
  readonly code?: string;
  readonly param?: string;
  readonly decline_code?: string;
  readonly payment_intent?: Record<string, unknown>;
  readonly doc_url?: string;
}

/** An error the Stripe edge answers as is. Thrown by Stripe routes only (never by commands). */
export class StripeApiError extends Error {
  override readonly name = 'StripeApiError';
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.message);
  }
}

/** 400 for a missing or invalid parameter, naming it. */
export function invalidParam(param: string, message: string, code = 'parameter_invalid'): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code, param, message });
}

/** 404 resource_missing: the same answer whether the object does not exist or is another merchant's. */
export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${kind}: '${id.slice(0, 80)}'`,
  });
}

/** 401 as Stripe answers a missing or wrong key (Stripe's type for it is invalid_request_error). */
export function invalidApiKey(given: boolean): StripeApiError {
  return new StripeApiError(401, {
    type: 'invalid_request_error',
    message: given
      ? 'Invalid API Key provided.'
      : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
  });
}

/** 400 for an action the object's status does not allow. */
export function unexpectedState(message: string): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message });
}

const FROM_DOMAIN: Partial<Record<ErrorCode, { status: number; body: StripeErrorBody }>> = {
  'idempotency.key_reused': {
    status: 400,
    body: {
      type: 'idempotency_error',
      message:
        'Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than the one used in the original request.',
    },
  },
  'idempotency.in_progress': {
    status: 409,
    body: {
      type: 'idempotency_error',
      message:
        'There is currently another in-progress request using this Idempotency Key (that probably means you submitted twice, and the other request is still going through). Please try again later.',
    },
  },
  rate_limited: {
    status: 429,
    body: { type: 'rate_limit_error', message: 'Too many requests hit the API too quickly.' },
  },
  conflict: {
    status: 409,
    body: {
      type: 'invalid_request_error',
      code: 'lock_timeout',
      message:
        'This object cannot be accessed right now because another API request or Stripe process is accessing it.',
    },
  },
  'refund.exceeds_captured': {
    status: 400,
    body: {
      type: 'invalid_request_error',
      code: 'amount_too_large',
      param: 'amount',
      message: 'Refund amount is greater than the unrefunded amount on the charge.',
    },
  },
  'refund.not_allowed': {
    status: 400,
    body: {
      type: 'invalid_request_error',
      code: 'charge_not_refundable',
      message: 'This PaymentIntent does not have a successful charge to refund.',
    },
  },
  'refund.charge_disputed': {
    status: 400,
    body: {
      type: 'invalid_request_error',
      code: 'charge_disputed',
      message: 'This charge has been disputed: it cannot be refunded while the dispute is open or after it was lost.',
    },
  },
  'state.illegal_transition': {
    status: 400,
    body: {
      type: 'invalid_request_error',
      code: 'payment_intent_unexpected_state',
      message: 'This PaymentIntent cannot do this in its current status.',
    },
  },
  'money.currency_mismatch': {
    status: 400,
    body: { type: 'invalid_request_error', param: 'currency', message: 'The currencies do not match.' },
  },
  'currency.unknown': {
    status: 400,
    body: { type: 'invalid_request_error', param: 'currency', message: 'Invalid currency.' },
  },
  'request.too_large': { status: 413, body: { type: 'invalid_request_error', message: 'The request is too large.' } },
  'upstream.unavailable': {
    status: 502,
    body: { type: 'api_error', message: 'The bank could not be reached; nothing was done. Try again.' },
  },
};

/** Maps anything thrown at the Stripe edge to a status and Stripe's error body. */
export function stripeErrorResponse(err: unknown, log: Pick<Logger, 'error'>): { status: number; body: unknown } {
  if (err instanceof StripeApiError) return { status: err.status, body: { error: err.body } };
  if (isDomainError(err)) {
    if (err.code === 'not_found' || err.code === 'access.denied')
      return { status: 404, body: { error: resourceMissing('object', '').body } };
    const known = FROM_DOMAIN[err.code];
    if (known) return { status: known.status, body: { error: known.body } };
    if (err.status < 500) {
      const field = err.details?.field;
      return {
        status: 400,
        body: {
          error: {
            type: 'invalid_request_error',
            message: err.message,
            ...(typeof field === 'string' ? { param: field } : {}),
          },
        },
      };
    }
  }
  log.error({ err }, 'stripe api request failed');
  return { status: 500, body: { error: { type: 'api_error', message: 'An internal error occurred.' } } };
}
