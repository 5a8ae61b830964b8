/**
 * Our gateway's HTTP adapter behind the shop's gateway port. Every request has a timeout; network
 * errors, timeouts, 5xx and `idempotency.in_progress` are retried with exponential backoff and full
 * jitter, never a 4xx (the same request would be refused again). POSTs carry an Idempotency-Key (the
 * attempt id for sessions), and a retry sends the very same body, so a retried create is one session.
 * The gateway's JSON is translated into the port's neutral types here and nowhere else.
 */
import { DomainError } from '../../core/errors.ts';
import { fromJSON, toJSON } from '../../core/money.ts';
import type {
  EventPage,
  GatewayPort,
  PaymentEvent,
  PaymentSession,
  PaymentSessionRequest,
  PaymentSessionStatus,
  RefundRequest,
  RefundResult,
  SecretRotation,
  SecretRotationRequest,
  SessionState,
} from '../domain/gateway.port.ts';

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

/** The gateway's session JSON (the fields the shop reads). */
interface WireSession {
  id: string;
  status: string;
  amount: unknown;
  merchant_reference: string;
  hosted_url: string;
  sequence: number;
  decline_reason?: string | null;
  void_reason?: string | null;
  card?: { brand: string; last4: string } | null;
}

/** The gateway's event JSON, as in webhooks and the feed. */
export interface WireEvent {
  id: string;
  type: string;
  data: {
    session_id: string;
    merchant_reference: string;
    amount: unknown;
    status: string;
    sequence: number;
    reason?: string | null;
    refund?: { id: string; amount: unknown; refunded_total: unknown } | null;
  };
}

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

type Call = (method: string, path: string, body?: unknown, idempotencyKey?: string) => Promise<unknown>;

/** The HTTP caller of the adapter: one request per try, retried with jittered backoff when the failure is retryable. */
function createCaller(options: GatewayAdapterOptions): Call {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxTries = options.maxTries ?? 4;
  const backoffMs = options.backoffMs ?? 200;
  const random = options.random ?? Math.random;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function once(
    method: string,
    path: string,
    body: string | undefined,
    idempotencyKey: string | undefined,
  ): Promise<unknown> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // Connection refused/reset, DNS, timeout: the request may or may not have arrived; the key makes a retry safe.
      throw new RetryableError(`network: ${(err as Error).name}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const code = (json as { error?: { code?: string } } | undefined)?.error?.code;
    if (res.status >= 500 || (res.status === 409 && code === 'idempotency.in_progress'))
      throw new RetryableError(`status ${res.status}`);
    if (res.status >= 400) {
      // A refusal by the gateway: not retried; its code travels for logs, never the API key.
      throw new DomainError(res.status === 404 ? 'not_found' : 'upstream.unavailable', {
        status: res.status,
        code: code ?? null,
        path,
      });
    }
    return json;
  }

  async function call(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let last: unknown;
    for (let attempt = 0; attempt < maxTries; attempt++) {
      if (attempt > 0) await sleep(Math.floor(random() * Math.min(5000, backoffMs * 2 ** attempt)));
      try {
        return await once(method, path, payload, idempotencyKey);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
      }
    }
    throw new DomainError('upstream.unavailable', { reason: (last as Error).message, path, tries: maxTries });
  }

  return call;
}

/** Creates the adapter; nothing is sent until a method is called. */
export function createGatewayAdapter(options: GatewayAdapterOptions): GatewayPort {
  const call = createCaller(options);
  return {
    async createSession(request: PaymentSessionRequest): Promise<PaymentSession> {
      const s = (await call(
        'POST',
        '/v1/payment_sessions',
        {
          amount: toJSON(request.amount),
          merchant_reference: request.invoiceId,
          description: request.description.slice(0, 200),
          expires_at: request.expiresAt.toISOString(),
          return_url: request.returnUrl,
          cancel_url: request.returnUrl,
        },
        request.attemptId,
      )) as WireSession;
      return { sessionId: s.id, redirectUrl: s.hosted_url };
    },
    async getSession(sessionId: string): Promise<PaymentSessionStatus> {
      return snapshot((await call('GET', `/v1/payment_sessions/${encodeURIComponent(sessionId)}`)) as WireSession);
    },
    async cancelSession(sessionId: string): Promise<void> {
      await call(
        'POST',
        `/v1/payment_sessions/${encodeURIComponent(sessionId)}/cancel`,
        undefined,
        `cancel:${sessionId}`,
      );
    },
    async acknowledgeSession(sessionId: string): Promise<boolean> {
      try {
        await call('POST', `/v1/payment_sessions/${encodeURIComponent(sessionId)}/acknowledge`);
        return true;
      } catch (err) {
        // 409: refused, timed out or voided already; the void reaches us as an event.
        if (err instanceof DomainError && err.details?.status === 409) return false;
        throw err;
      }
    },
    async createRefund(request: RefundRequest): Promise<RefundResult> {
      try {
        const r = (await call(
          'POST',
          '/v1/refunds',
          { session_id: request.sessionId, amount: toJSON(request.amount), reason: request.reason.slice(0, 500) },
          request.refundId,
        )) as { id: string; status: string };
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
      const r = (await call(
        'POST',
        '/v1/webhook_secrets/rotate',
        { overlap_seconds: request.overlapSeconds },
        request.idempotencyKey,
      )) as { secret: string; created_at: string; previous_expires_at: string | null };
      return {
        secret: r.secret,
        createdAt: new Date(r.created_at),
        previousExpiresAt: r.previous_expires_at ? new Date(r.previous_expires_at) : null,
      };
    },
    async listEvents(after: string | null, limit = 100): Promise<EventPage> {
      const q = new URLSearchParams({ limit: String(limit), ...(after ? { after } : {}) });
      const page = (await call('GET', `/v1/events?${q}`)) as {
        data: WireEvent[];
        next_cursor: string | null;
        has_more: boolean;
      };
      return {
        events: page.data.map((e) => parseGatewayEvent(e, 'feed')),
        nextCursor: page.next_cursor,
        hasMore: page.has_more,
      };
    },
  };
}
