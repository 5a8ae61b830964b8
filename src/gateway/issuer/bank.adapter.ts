// The issuer port over HTTP to our bank service. Every request is signed (secret GATEWAY_BANK_KEY)
// over its method, path and query, and the exact body sent (a GET signs the empty body), under a new
// request id: the bank consumes every id it verified, so a retry is always a new signed request, and
// what makes retries safe is the operation's own key (gateway_ref, refund_ref) or its state machine.
import { DomainError } from '../../core/errors.ts';
import { toJSON, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Evidence } from '../domain/dispute.machine.ts';
import { signedRequestHeaders } from '../../platform/http/signed-request.ts';
import type { AuthorizeRequest, IssuerDecision, IssuerPort, PayoutOutcome, PayoutRequest } from './issuer.port.ts';

export interface BankAdapterOptions {
  readonly baseUrl: string;
  readonly key: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

type BankResponse = { status: number; json: Record<string, unknown> };

/** A signed call to the bank: a 5xx or a network failure is an outage; any other answer is returned. */
function createBankCall(options: BankAdapterOptions) {
  const base = options.baseUrl.replace(/\/$/, '');
  const doFetch = options.fetch ?? fetch;

  return async function call(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<BankResponse> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const url = `${base}${path}`;
    const headers = signedRequestHeaders({ method, url, body, secrets: [options.key], clock: options.clock });
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        ...(method === 'POST' ? { body } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        // A signed request is for its URL only: the bank never redirects, and a redirect is its answer.
        redirect: 'manual',
      });
    } catch (err) {
      throw new DomainError('upstream.unavailable', { upstream: 'bank', path }, { cause: err });
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
    if (response.status >= 500)
      throw new DomainError('upstream.unavailable', { upstream: 'bank', path, status: response.status });
    return { status: response.status, json };
  };
}

/** Any answer other than a 2xx is an outage. */
function failIfNot2xx(r: BankResponse, path: string): void {
  if (r.status < 200 || r.status >= 300) {
    const code = (r.json.error as { code?: string } | undefined)?.code;
    throw new DomainError('upstream.unavailable', { upstream: 'bank', path, status: r.status, code });
  }
}

/** Creates the HTTP adapter to the bank. */
export function createBankAdapter(options: BankAdapterOptions): IssuerPort {
  const call = createBankCall(options);

  return {
    async authorize(request: AuthorizeRequest): Promise<IssuerDecision> {
      return toDecision(await call('POST', '/api/v1/authorizations', authorizeBody(request)));
    },
    async findByReference(gatewayRef) {
      const path = `/api/v1/authorizations?gateway_ref=${encodeURIComponent(gatewayRef)}`;
      const r = await call('GET', path);
      if (r.status === 404) return null;
      failIfNot2xx(r, path);
      return {
        authorizationId: String(r.json.id),
        status: String(r.json.status),
        ...(r.json.decline_reason ? { declineReason: String(r.json.decline_reason) } : {}),
      };
    },
    async status(authorizationId) {
      const path = `/api/v1/authorizations/${encodeURIComponent(authorizationId)}`;
      const r = await call('GET', path);
      failIfNot2xx(r, path);
      return {
        status: String(r.json.status),
        ...(r.json.decline_reason ? { declineReason: String(r.json.decline_reason) } : {}),
      };
    },
    async capture(authorizationId: string, amount: Money) {
      const path = `/api/v1/authorizations/${encodeURIComponent(authorizationId)}/capture`;
      failIfNot2xx(await call('POST', path, { amount: toJSON(amount) }), path);
    },
    async void(authorizationId: string) {
      const path = `/api/v1/authorizations/${encodeURIComponent(authorizationId)}/void`;
      failIfNot2xx(await call('POST', path, {}), path);
    },
    async refund(authorizationId: string, refundRef: string, amount: Money) {
      const path = `/api/v1/authorizations/${encodeURIComponent(authorizationId)}/refunds`;
      failIfNot2xx(await call('POST', path, { refund_ref: refundRef, amount: toJSON(amount) }), path);
    },
    async journey(gatewayRef: string) {
      const path = `/api/v1/journey?gateway_ref=${encodeURIComponent(gatewayRef)}`;
      const r = await call('GET', path);
      failIfNot2xx(r, path);
      return Array.isArray(r.json.steps) ? (r.json.steps as unknown[]) : [];
    },
    async submitDisputeEvidence(disputeRef: string, evidence: Evidence) {
      const path = `/api/v1/disputes/${encodeURIComponent(disputeRef)}/evidence`;
      failIfNot2xx(await call('POST', path, evidence), path);
    },
    async acceptDispute(disputeRef: string) {
      const path = `/api/v1/disputes/${encodeURIComponent(disputeRef)}/accept`;
      const r = await call('POST', path, {});
      failIfNot2xx(r, path);
      // The bank closes an open dispute on acceptance; a closed one it answers as it stands.
      if (r.json.status === 'lost' || r.json.status === 'won') return r.json.status;
      throw new DomainError('upstream.unavailable', { upstream: 'bank', path, reason: 'dispute_not_closed' });
    },
    async payout(request: PayoutRequest): Promise<PayoutOutcome> {
      const path = '/api/v1/payouts';
      const r = await call('POST', path, {
        payout_id: request.payoutId,
        merchant_id: request.merchantId,
        amount_minor: request.amount.minor.toString(),
        currency: request.amount.currency,
      });
      if (r.status >= 200 && r.status < 300) return { status: 'paid' };
      // Only the bank's own refusal (or a body it cannot take) gives the money back; any other answer (a
      // signature refused, a replay, the same payout id with other fields) is an outage, retried, never reversed.
      const code = (r.json.error as { code?: string } | undefined)?.code;
      if (code === 'payout.refused' || code === 'validation.failed') return { status: 'refused', code };
      failIfNot2xx(r, path);
      return { status: 'paid' };
    },
  };
}

/** The bank's body for an authorisation request. */
function authorizeBody(request: AuthorizeRequest): Record<string, unknown> {
  return {
    gateway_ref: request.gatewayRef,
    card: {
      number: request.card.number,
      exp_month: request.card.expMonth,
      exp_year: request.card.expYear,
      cvc: request.card.cvc,
      name: request.card.name,
    },
    amount: toJSON(request.amount),
    merchant: { name: request.merchantName },
    description: request.description,
    reference: request.reference,
  };
}

/** The issuer's decision from the bank's answer to an authorisation request. */
function toDecision(r: BankResponse): IssuerDecision {
  // A 4xx with an error body that is a card problem is a decline, not an outage.
  if (r.status === 402 || (r.status >= 400 && r.status < 500 && r.json.status === undefined)) {
    const code = (r.json.error as { code?: string } | undefined)?.code ?? 'card_declined';
    if (r.status === 402 || code === 'card.invalid' || code === 'payment.declined' || code === 'balance.insufficient') {
      return {
        status: 'declined',
        authorizationId: null,
        declineReason: code === 'balance.insufficient' ? 'insufficient_funds' : 'card_declined',
      };
    }
    throw new DomainError('upstream.unavailable', { upstream: 'bank', status: r.status, code });
  }
  failIfNot2xx(r, '/api/v1/authorizations');
  const id = String(r.json.id ?? '');
  if (r.json.status === 'approved') return { status: 'approved', authorizationId: id };
  if (r.json.status === 'pending') {
    return {
      status: 'pending',
      authorizationId: id,
      ...(typeof r.json.approval_expires_at === 'string' ? { approvalExpiresAt: r.json.approval_expires_at } : {}),
    };
  }
  if (r.json.status === 'declined')
    return {
      status: 'declined',
      authorizationId: id || null,
      declineReason: String(r.json.decline_reason ?? 'card_declined'),
    };
  throw new DomainError('upstream.unavailable', { upstream: 'bank', reason: 'unexpected_status' });
}
