// Test helpers for the gateway: a fake issuer behind the port (the network to the bank is faked,
// everything else is real), a local webhook receiver that keeps the exact bytes it was sent, and a
// gateway started on a fresh database of either engine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { DomainError } from '../core/errors.ts';
import type { Money } from '../core/money.ts';
import { testCard } from '../core/test-cards.ts';
import { newWebhookSecret } from '../core/webhook-signature.ts';
import type { Engine } from '../platform/db/database.ts';
import { freshDatabase } from '../platform/db/testing.ts';
import { createLogger } from '../platform/log.ts';
import type { ServiceHandle } from '../platform/service.ts';
import type { AuthorizeRequest, IssuerDecision, IssuerPort } from './issuer/issuer.port.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from './main.ts';

/** An in-memory issuer that answers by test card, and records what the gateway asked. */
export class FakeIssuer implements IssuerPort {
  readonly authorizations = new Map<
    string,
    { id: string; status: string; request: Omit<AuthorizeRequest, 'card'> & { last4: string }; declineReason?: string }
  >();
  readonly calls: string[] = [];
  /** Delay each authorize by this many ms (to widen race windows). */
  authorizeDelayMs = 0;
  unavailable = false;
  private seq = 0;

  async findByReference(gatewayRef: string) {
    this.calls.push(`find:${gatewayRef}`);
    if (this.unavailable) throw new DomainError('upstream.unavailable');
    const a = [...this.authorizations.values()].find((x) => x.request.gatewayRef === gatewayRef);
    return a
      ? { authorizationId: a.id, status: a.status, ...(a.declineReason ? { declineReason: a.declineReason } : {}) }
      : null;
  }

  async authorize(request: AuthorizeRequest): Promise<IssuerDecision> {
    this.calls.push(`authorize:${request.gatewayRef}`);
    if (this.authorizeDelayMs) await new Promise((r) => setTimeout(r, this.authorizeDelayMs));
    if (this.unavailable) throw new DomainError('upstream.unavailable');
    const existing = [...this.authorizations.values()].find((a) => a.request.gatewayRef === request.gatewayRef);
    if (existing) return this.decision(existing);
    const behaviour = testCard(request.card.number)?.behaviour ?? 'approved';
    const id = `bauth_fake${++this.seq}`;
    const { card, ...rest } = request;
    const auth = { id, status: 'approved', request: { ...rest, last4: card.number.slice(-4) } } as {
      id: string;
      status: string;
      request: Omit<AuthorizeRequest, 'card'> & { last4: string };
      declineReason?: string;
      approvalExpiresAt?: string;
    };
    if (behaviour === 'declined') Object.assign(auth, { status: 'declined', declineReason: 'card_declined' });
    if (behaviour === 'insufficient_funds')
      Object.assign(auth, { status: 'declined', declineReason: 'insufficient_funds' });
    if (behaviour === 'requires_approval' || behaviour === 'approval_timeout' || behaviour === 'processing_delay')
      auth.status = 'pending';
    // As the bank: a request in the cardholder's app has a deadline (2 min; 8 s for the timing-out card);
    // a processing delay is the bank deciding alone, with none.
    if (behaviour === 'requires_approval' || behaviour === 'approval_timeout')
      auth.approvalExpiresAt = new Date(
        Date.now() + (behaviour === 'approval_timeout' ? 8_000 : 120_000),
      ).toISOString();
    this.authorizations.set(id, auth);
    return this.decision(auth);
  }

  private decision(a: {
    id: string;
    status: string;
    declineReason?: string;
    approvalExpiresAt?: string;
  }): IssuerDecision {
    if (a.status === 'declined')
      return { status: 'declined', authorizationId: a.id, declineReason: a.declineReason ?? 'card_declined' };
    if (a.status === 'pending')
      return {
        status: 'pending',
        authorizationId: a.id,
        ...(a.approvalExpiresAt ? { approvalExpiresAt: a.approvalExpiresAt } : {}),
      };
    return { status: 'approved', authorizationId: a.id };
  }

  /** The cardholder (or the bank's timer) decides a pending authorisation. */
  decide(id: string, outcome: 'approved' | 'declined', declineReason = 'approval_declined'): void {
    const a = this.authorizations.get(id);
    if (!a) throw new Error(`no authorisation ${id}`);
    a.status = outcome;
    if (outcome === 'declined') a.declineReason = declineReason;
  }

  async status(id: string) {
    this.calls.push(`status:${id}`);
    const a = this.authorizations.get(id);
    if (!a) throw new DomainError('upstream.unavailable');
    return { status: a.status, ...(a.declineReason ? { declineReason: a.declineReason } : {}) };
  }

  async capture(id: string, amount: Money) {
    this.calls.push(`capture:${id}:${amount.minor}`);
    const a = this.authorizations.get(id);
    if (!a || (a.status !== 'approved' && a.status !== 'captured')) throw new DomainError('upstream.unavailable');
    a.status = 'captured';
  }

  async void(id: string) {
    this.calls.push(`void:${id}`);
    const a = this.authorizations.get(id);
    if (!a || (a.status !== 'approved' && a.status !== 'voided')) throw new DomainError('upstream.unavailable');
    a.status = 'voided';
  }

  async refund(id: string, refundRef: string, amount: Money) {
    this.calls.push(`refund:${id}:${refundRef}:${amount.minor}`);
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}

export interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly at: number;
}

/** A local HTTP receiver for webhooks; `respond` decides each answer (default 200). */
export async function webhookReceiver() {
  const received: Received[] = [];
  let respond: (r: Received, res: ServerResponse) => void | Promise<void> = (_r, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      received.push(r);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      void Promise.resolve(respond(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/webhooks/gateway`,
    received,
    setRespond(fn: typeof respond) {
      respond = fn;
    },
    /** Events of a session, parsed, in arrival order. */
    eventsFor(
      sessionId: string,
    ): { id: string; type: string; data: { session_id: string; status: string; sequence: number; reason?: string } }[] {
      return received.map((r) => JSON.parse(r.body.toString('utf8'))).filter((e) => e.data?.session_id === sessionId);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Captures every log line the gateway writes. */
export function logCapture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: createLogger('gateway', 'debug', stream as never) };
}

export const TEST_API_KEY = 'sk_test_gatewaytestkey0123456789abcdef';
/** The demo merchant's Stripe-dialect key in test gateways. */
export const TEST_STRIPE_API_KEY = 'sk_test_gatewaystripekey0123456789abcd';

/** A gateway on a fresh database with the fake issuer; the demo merchant posts to `webhookUrl`. */
export async function startTestGateway(
  engine: Engine,
  options: {
    webhookUrl?: string;
    ackWindowSeconds?: number;
    webhookTimeoutMs?: number;
    /** A real bank instead of the fake issuer. */
    bank?: { url: string; key: string; callbackSecret: string };
    port?: number;
    /** GATEWAY_JOB_LEASE_SECONDS (default 60). */
    jobLeaseSeconds?: number;
    /** More configuration (e.g. GATEWAY_SIGNUP). */
    env?: Record<string, string>;
  } = {},
) {
  const database = await freshDatabase(gatewayDatabaseSpec, engine);
  const webhookSecret = newWebhookSecret();
  const bankCallbackSecret = options.bank?.callbackSecret ?? newWebhookSecret();
  const config = loadGatewayConfig({
    GATEWAY_PORT: String(options.port ?? 0),
    GATEWAY_BANK_KEY: options.bank?.key ?? newWebhookSecret(),
    ...(options.bank ? { GATEWAY_BANK_URL: options.bank.url } : {}),
    GATEWAY_BANK_CALLBACK_SECRET: bankCallbackSecret,
    GATEWAY_DEMO_MERCHANT_API_KEY: TEST_API_KEY,
    GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY: TEST_STRIPE_API_KEY,
    GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: webhookSecret,
    ...(options.webhookUrl ? { GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: options.webhookUrl } : {}),
    GATEWAY_DEMO_MERCHANT_ACK_WINDOW_SECONDS: String(options.ackWindowSeconds ?? 900),
    GATEWAY_WEBHOOK_TIMEOUT_MS: String(options.webhookTimeoutMs ?? 5000),
    GATEWAY_JOB_POLL_MS: '100',
    ...(options.jobLeaseSeconds ? { GATEWAY_JOB_LEASE_SECONDS: String(options.jobLeaseSeconds) } : {}),
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const issuer = new FakeIssuer();
  const logs = logCapture();
  const handle: ServiceHandle = await startGateway(config, {
    database,
    ...(options.bank ? {} : { issuer }),
    log: logs.log,
  });
  const api = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string>; key?: string } = {},
  ) =>
    fetch(`${options.port ? `http://127.0.0.1:${options.port}` : handle.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: `Bearer ${init.key ?? TEST_API_KEY}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  // With port 0 the handle knows the address; with a fixed port, it is that port on localhost.
  const url = options.port ? `http://127.0.0.1:${options.port}` : handle.url;
  return { handle, database, issuer, logs, api, webhookSecret, bankCallbackSecret, url, stop: () => handle.stop() };
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
