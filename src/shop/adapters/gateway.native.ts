/**
 * Our gateway's HTTP adapter behind the shop's gateway port. Every request has a timeout; network
 * errors, timeouts, 5xx and `idempotency.in_progress` are retried with exponential backoff and full
 * jitter, never a 4xx (the same request would be refused again). POSTs carry an Idempotency-Key (the
 * attempt id for sessions), and a retry sends the very same body, so a retried create is one session.
 * The gateway's JSON is translated into the port's neutral types here and nowhere else; its shapes
 * are the types generated from the gateway's OpenAPI document (src/core/gateway-api.d.ts, through
 * openapi-fetch), so a changed API is a type error here, not a surprise at run time.
 */
import createClient from 'openapi-fetch';
import { DomainError } from '../../core/errors.ts';
import type { components, paths } from '../../core/gateway-api.d.ts';
import { parseJourneyStep, type JourneyStep } from '../../core/journey.ts';
import { fromJSON, toJSON } from '../../core/money.ts';
import {
  type EventPage,
  type GatewayJourney,
  type GatewayPort,
  type PaymentEvent,
  type PaymentSession,
  type PaymentSessionRequest,
  type PaymentSessionStatus,
  type RefundRequest,
  type RefundResult,
  type SecretRotation,
  type SecretRotationRequest,
  type SessionState,
  wellFormedCard,
} from '../domain/gateway.port.ts';
import { isDisputeEventType, nativeDisputeCalls, parseDisputeEvent } from './gateway-disputes.native.ts';

export interface GatewayAdapterOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Per request; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Tries in all (first + retries); default 4. */
  readonly maxTries?: number;
  /** Backoff base; the n-th retry waits random(0, base * 2^n), capped at 5 s. Default 200 ms. */
  readonly backoffMs?: number;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The gateway's session JSON, as its OpenAPI document describes it. */
type WireSession = components['schemas']['PaymentSession'];

/** The gateway's event JSON, as in webhooks (no cursor) and the feed (with one). */
export type WireEvent = Omit<components['schemas']['Event'], 'cursor' | 'created_at'>;

/** Maps our gateway's session status onto the shop's neutral states. */
export function neutralState(status: string): SessionState {
  switch (status) {
    case 'created':
      return 'open';
    case 'processing':
    case 'requires_approval':
      return 'pending';
    case 'authorized':
    case 'captured':
    case 'declined':
    case 'expired':
    case 'voided':
    case 'refunded':
    case 'canceled':
      return status;
    case 'partially_refunded':
      // Still paid; the refund module reads the amounts.
      return 'captured';
    default:
      throw new DomainError('upstream.unavailable', { reason: `unknown session status ${status}` });
  }
}

/** Translates a webhook body or feed entry of our gateway into a neutral event (throws on a bad shape). */
export function parseGatewayEvent(raw: unknown, source: PaymentEvent['source']): PaymentEvent {
  const e = raw as WireEvent;
  if (
    !e ||
    typeof e.id !== 'string' ||
    !e.data ||
    typeof e.data.session_id !== 'string' ||
    typeof e.data.merchant_reference !== 'string' ||
    !Number.isInteger(e.data.sequence)
  ) {
    throw new DomainError('validation.failed', { reason: 'not a gateway event' });
  }
  return {
    id: e.id,
    sessionId: e.data.session_id,
    invoiceId: e.data.merchant_reference,
    status: neutralState(e.data.status),
    amount: fromJSON(e.data.amount),
    sequence: e.data.sequence,
    reason: e.data.reason ?? undefined,
    card: wellFormedCard(e.data.card),
    refund:
      e.data.refund && typeof e.data.refund.id === 'string'
        ? {
            id: e.data.refund.id,
            amount: fromJSON(e.data.refund.amount),
            refundedTotal: fromJSON(e.data.refund.refunded_total),
          }
        : undefined,
    source,
  };
}

function snapshot(s: WireSession): PaymentSessionStatus {
  return {
    sessionId: s.id,
    status: neutralState(s.status),
    amount: fromJSON(s.amount),
    invoiceId: s.merchant_reference,
    sequence: s.sequence,
    reason: s.decline_reason ?? s.void_reason ?? undefined,
    redirectUrl: s.hosted_url,
    card: s.card ? { brand: s.card.brand, last4: s.card.last4 } : undefined,
  };
}

class RetryableError extends Error {}

/**
 * The fetch under the typed client: one request per try, each with its timeout, retried with jittered
 * backoff on a network error, a 5xx or `idempotency.in_progress` (the same method, URL, headers and
 * body, so the Idempotency-Key makes a retried create one session); a 4xx is the gateway's answer.
 */
function retryingFetch(options: GatewayAdapterOptions): (request: Request) => Promise<Response> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxTries = options.maxTries ?? 4;
  const backoffMs = options.backoffMs ?? 200;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function once(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      // Connection refused/reset, DNS, timeout: the request may or may not have arrived; the key makes a retry safe.
      throw new RetryableError(`network: ${(err as Error).name}`);
    }
    if (res.status >= 500) throw new RetryableError(`status ${res.status}`);
    if (res.status === 409) {
      const code = (
        (await res
          .clone()
          .json()
          .catch(() => null)) as { error?: { code?: string } } | null
      )?.error?.code;
      if (code === 'idempotency.in_progress') throw new RetryableError('status 409 idempotency.in_progress');
    }
    return res;
  }

  return async (request) => {
    const path = new URL(request.url).pathname;
    const body = request.body ? await request.text() : undefined;
    const init: RequestInit = {
      method: request.method,
      headers: request.headers,
      ...(body === undefined ? {} : { body }),
      // The gateway's API never redirects; a redirect is its answer, never followed with the key.
      redirect: 'manual',
    };
    let last: unknown;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      if (attempt > 0) await sleep(Math.floor(random() * Math.min(5000, backoffMs * 2 ** attempt)));
      try {
        return await once(request.url, init);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
      }
    }
    throw new DomainError('upstream.unavailable', { reason: (last as Error).message, path, tries: maxTries });
  };
}

/** A call's data, or the gateway's refusal as a DomainError (404: not_found); its code travels for logs, never the key. */
async function expect<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const code = (error as { error?: { code?: string } } | undefined)?.error?.code;
  throw new DomainError(response.status === 404 ? 'not_found' : 'upstream.unavailable', {
    status: response.status,
    code: code ?? null,
    path: new URL(response.url || 'http://gateway/').pathname,
  });
}

/** The typed client of the gateway's native API, over the retrying fetch. */
function gatewayClient(options: GatewayAdapterOptions) {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/json' },
    fetch: retryingFetch(options),
  });
}

const key = (idempotencyKey: string) => ({ headers: { 'idempotency-key': idempotencyKey } });

/** Creates the adapter; nothing is sent until a method is called. */
export function createGatewayAdapter(options: GatewayAdapterOptions): GatewayPort {
  const api = gatewayClient(options);
  const session = (id: string) => ({ params: { path: { id } } });
  return {
    ...nativeDisputeCalls(api, expect),
    async createSession(request: PaymentSessionRequest): Promise<PaymentSession> {
      const s = await expect(
        api.POST('/v1/payment_sessions', {
          body: {
            amount: toJSON(request.amount),
            merchant_reference: request.invoiceId,
            description: request.description.slice(0, 200),
            expires_at: request.expiresAt.toISOString(),
            return_url: request.returnUrl,
            cancel_url: request.returnUrl,
          },
          ...key(request.attemptId),
        }),
      );
      return { sessionId: s.id, redirectUrl: s.hosted_url };
    },
    async getSession(sessionId: string): Promise<PaymentSessionStatus> {
      return snapshot(await expect(api.GET('/v1/payment_sessions/{id}', session(sessionId))));
    },
    async cancelSession(sessionId: string): Promise<void> {
      await expect(
        api.POST('/v1/payment_sessions/{id}/cancel', { ...session(sessionId), ...key(`cancel:${sessionId}`) }),
      );
    },
    async acknowledgeSession(sessionId: string): Promise<boolean> {
      try {
        await expect(api.POST('/v1/payment_sessions/{id}/acknowledge', session(sessionId)));
        return true;
      } catch (err) {
        // 409: refused, timed out or voided already; the void reaches us as an event.
        if (err instanceof DomainError && err.details?.status === 409) return false;
        throw err;
      }
    },
    async createRefund(request: RefundRequest): Promise<RefundResult> {
      try {
        const r = await expect(
          api.POST('/v1/refunds', {
            body: {
              session_id: request.sessionId,
              amount: toJSON(request.amount),
              reason: request.reason.slice(0, 500),
            },
            ...key(request.refundId),
          }),
        );
        return { refundId: r.id, status: r.status === 'succeeded' ? 'succeeded' : 'pending' };
      } catch (err) {
        // A 4xx is the gateway's refusal (e.g. refund.exceeds_captured): final; network errors and 5xx (after retries) throw.
        const status = err instanceof DomainError ? (err.details?.status as number | undefined) : undefined;
        if (status !== undefined && status >= 400 && status < 500)
          return {
            refundId: '',
            status: 'failed',
            reason: String(err instanceof DomainError ? (err.details?.code ?? `refused_with_${status}`) : status),
          };
        throw err;
      }
    },
    async rotateWebhookSecret(request: SecretRotationRequest): Promise<SecretRotation> {
      // A lost answer is asked for again with the same key: the gateway replays the same secret.
      const r = await expect(
        api.POST('/v1/webhook_secrets/rotate', {
          body: { overlap_seconds: request.overlapSeconds },
          ...key(request.idempotencyKey),
        }),
      );
      return {
        secret: r.secret,
        createdAt: new Date(r.created_at),
        previousExpiresAt: r.previous_expires_at ? new Date(r.previous_expires_at) : null,
      };
    },
    async paymentJourney(sessionId: string): Promise<GatewayJourney> {
      const j = await expect(api.GET('/v1/payment_sessions/{id}/journey', session(sessionId)));
      // Another party's answer: only well-formed steps, and none claiming to be the shop's own record.
      const steps = j.steps.map(parseJourneyStep).filter((x): x is JourneyStep => !!x && x.party !== 'shop');
      return { steps, settled: j.settled, bank: j.bank };
    },
    async listEvents(after: string | null, limit = 100): Promise<EventPage> {
      const page = await expect(api.GET('/v1/events', { params: { query: { limit, ...(after ? { after } : {}) } } }));
      // Dispute news shares the feed; it is applied by its own path.
      const isDispute = (e: unknown) => isDisputeEventType((e as { type?: unknown }).type);
      return {
        events: page.data.filter((e) => !isDispute(e)).map((e) => parseGatewayEvent(e, 'feed')),
        disputes: page.data.filter(isDispute).map((e) => parseDisputeEvent(e, 'feed')),
        nextCursor: page.next_cursor,
        hasMore: page.has_more,
      };
    },
  };
}
