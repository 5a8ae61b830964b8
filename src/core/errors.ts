/**
 * One error type for the whole system. Domain code throws `DomainError` with a code from the closed
 * table below; the edge turns any thrown value into an HTTP answer through `toHttpError`, the one
 * mapper. Domain code never knows about HTTP exceptions; the status lives in the table so that the
 * mapping is reviewed in one place.
 *
 * Adding a code is one line in ERROR_CODES. Messages are public: they are sent to clients as they are,
 * so they must be clear and must never carry data (put data in `details`).
 */
import { z } from 'zod';

export const ERROR_CODES = {
  'validation.failed': { status: 422, message: 'The request did not pass validation.' },
  'request.malformed': { status: 400, message: 'The request is malformed.' },
  'request.unsupported_media_type': {
    status: 415,
    message: 'The request body is not in a content type this endpoint accepts.',
  },
  'request.too_large': { status: 413, message: 'The request body is too large.' },
  'auth.required': { status: 401, message: 'Authentication is required.' },
  'auth.invalid_credentials': { status: 401, message: 'The credentials are not valid.' },
  'auth.forbidden': { status: 403, message: 'You are not allowed to do this.' },
  not_found: { status: 404, message: 'Not found.' },
  // Deliberately 404, word for word the same as not_found: another user's resource must be
  // indistinguishable from a resource that does not exist.
  'access.denied': { status: 404, message: 'Not found.' },
  'csrf.invalid': { status: 403, message: 'The form has expired or is not valid; reload the page and try again.' },
  rate_limited: { status: 429, message: 'Too many requests; try again later.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  'idempotency.key_reused': { status: 422, message: 'This Idempotency-Key was already used with a different request.' },
  'idempotency.in_progress': { status: 409, message: 'A request with this Idempotency-Key is still being processed.' },
  'money.currency_mismatch': { status: 422, message: 'The amounts are in different currencies.' },
  'money.negative': { status: 422, message: 'The amount must not be negative.' },
  'money.invalid': { status: 422, message: 'The amount is not valid.' },
  'currency.unknown': { status: 422, message: 'The currency is not supported.' },
  'id.invalid': { status: 400, message: 'The identifier is not valid.' },
  'state.illegal_transition': { status: 409, message: 'This action is not possible in the current state.' },
  'webhook.signature_invalid': { status: 401, message: 'The webhook signature is not valid.' },
  'webhook.timestamp_out_of_tolerance': {
    status: 401,
    message: 'The webhook timestamp is outside the accepted tolerance.',
  },
  'webhook.headers_missing': { status: 400, message: 'The webhook signature headers are missing.' },
  'request.signature_invalid': {
    status: 401,
    message: 'The request signature is missing or not valid for this method, path and body.',
  },
  'request.timestamp_out_of_tolerance': {
    status: 401,
    message: 'The request timestamp is outside the accepted tolerance.',
  },
  'request.replayed': {
    status: 409,
    message: 'This request id was already used; sign every request, retries included, with a new id.',
  },
  'invoice.expired': { status: 409, message: 'The invoice has expired.' },
  'invoice.not_valid': { status: 409, message: 'The invoice is no longer valid.' },
  'invoice.already_paid': { status: 409, message: 'The invoice is already paid.' },
  'invoice.amount_mismatch': { status: 409, message: 'The amount or currency does not match the invoice.' },
  'invoice.unknown': { status: 409, message: 'The invoice is not known to this shop.' },
  'refund.exceeds_captured': { status: 409, message: 'The refunds would exceed the captured amount.' },
  'refund.not_allowed': { status: 409, message: 'This payment cannot be refunded.' },
  'refund.charge_disputed': {
    status: 409,
    message: 'This payment is disputed: it cannot be refunded while the dispute is open or after it was lost.',
  },
  'refund.reason_required': { status: 422, message: 'A refund needs a reason.' },
  'refund.approval_by_requester': { status: 409, message: 'A second staff member must approve this refund.' },
  'ledger.transfer_exists': { status: 409, message: 'A ledger transfer with this id exists with other fields.' },
  'ledger.pending_resolved': { status: 409, message: 'The pending ledger transfer is already posted or voided.' },
  'ledger.invalid_transfer': { status: 500, message: 'A ledger transfer was not valid.' },
  'payout.refused': { status: 422, message: 'The bank refused the payout.' },
  'ledger.limit_exceeded': { status: 409, message: 'The transfer would take a ledger account below zero.' },
  'dispute.not_open': { status: 409, message: 'The dispute no longer takes evidence or an acceptance.' },
  'dispute.evidence_invalid': { status: 400, message: 'The evidence is empty or over its limits.' },
  'dispute.not_allowed': { status: 409, message: 'This payment cannot be disputed.' },
  'session.expired': { status: 409, message: 'The payment session has expired.' },
  'session.not_payable': { status: 409, message: 'The payment session can no longer be paid.' },
  'card.invalid': { status: 422, message: 'The card details are not valid.' },
  'payment.declined': { status: 402, message: 'The payment was declined.' },
  'balance.insufficient': { status: 402, message: 'The balance is insufficient.' },
  'approval.expired': { status: 409, message: 'The approval request has expired.' },
  'approval.already_answered': { status: 409, message: 'The approval request was already answered.' },
  'config.invalid': { status: 500, message: 'The service is misconfigured.' },
  internal: { status: 500, message: 'An internal error occurred.' },
  'upstream.unavailable': { status: 502, message: 'An upstream service is unavailable.' },
  'cart.empty': { status: 409, message: 'The cart is empty.' },
  'cart.quantity_invalid': { status: 422, message: 'The quantity must be a whole number from 1 to 99.' },
  'product.unavailable': { status: 409, message: 'This product is no longer available.' },
  'checkout.incomplete': { status: 409, message: 'Choose a delivery method and enter an address first.' },
  'order.not_changeable': { status: 409, message: 'This order can no longer be changed.' },
  'order.not_payable': { status: 409, message: 'This order cannot be paid.' },
  'auth.email_taken': { status: 409, message: 'An account with this email already exists.' },
  'webhook_secret.rotation_unsupported': {
    status: 409,
    message:
      "This gateway has no API to rotate the webhook signing secret. With Stripe: roll the endpoint's secret in the Stripe dashboard (Developers, Webhooks) and set SHOP_STRIPE_WEBHOOK_SECRETS to the new and the old secret until the old one expires.",
  },
} as const satisfies Record<string, { readonly status: number; readonly message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorDetails = Readonly<Record<string, unknown>>;

export interface HttpError {
  readonly status: number;
  readonly body: { error: { code: string; message: string; details?: unknown } };
}

/** The single error type of the domain; its code decides the HTTP status at the edge. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, details?: ErrorDetails, options?: { cause?: unknown }) {
    // The message is always the table's public message, so err.message is safe to show anywhere;
    // the specifics travel in details, the original failure in cause (for logs only).
    super(ERROR_CODES[code].message, options);
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details === undefined ? undefined : Object.freeze({ ...details });
  }
}

/** Narrows an unknown thrown value, optionally to one code, without an instanceof at every call site. */
export function isDomainError(err: unknown, code?: ErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}

/** Tells whether a string (e.g. from another party's error body) is one of our codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The one mapper from anything thrown to an HTTP answer; unknown errors never leak their message. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof DomainError) {
    const { status, message } = ERROR_CODES[err.code];
    const error: HttpError['body']['error'] = { code: err.code, message };
    // Server-side failures keep their details for the logs: they may describe internals
    // (configuration, upstream addresses) that a client has no business seeing.
    if (err.details !== undefined && status < 500) error.details = err.details;
    return { status, body: { error } };
  }
  // $ZodError is the base of both zod's classic ZodError and errors thrown by zod/v4/core.
  if (err instanceof z.core.$ZodError) {
    const { status, message } = ERROR_CODES['validation.failed'];
    const issues = err.issues.map((issue) => ({
      path: issue.path.map((segment) => String(segment)).join('.'),
      message: issue.message,
    }));
    return { status, body: { error: { code: 'validation.failed', message, details: { issues } } } };
  }
  const { status, message } = ERROR_CODES.internal;
  return { status, body: { error: { code: 'internal', message } } };
}
