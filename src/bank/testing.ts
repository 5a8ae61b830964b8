// Test support for the bank: a started bank on a fresh database, signed gateway requests, a callback
// receiver standing in for the gateway, cardholder factories and a logged-in cookie.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signRequest, verifyRequest } from '../core/request-signature.ts';
import { newWebhookSecret } from '../core/webhook-signature.ts';
import { TEST_CARDS } from '../core/test-cards.ts';
import { systemClock, type Clock } from '../platform/clock.ts';
import type { Engine } from '../platform/db/database.ts';
import { freshDatabase } from '../platform/db/testing.ts';
import { routedTarget } from '../platform/http/signed-request.ts';
import { createLogger } from '../platform/log.ts';
import type { ServiceHandle } from '../platform/service.ts';
import { bankDatabaseSpec, loadBankConfig, startBank } from './main.ts';
import { createCardholder, DEMO_CARDHOLDER, type NewCardholder } from './storage/seed-demo.ts';

export const cardOf = (behaviour: (typeof TEST_CARDS)[number]['behaviour']) =>
  TEST_CARDS.find((c) => c.behaviour === behaviour)!.number;

/** A gateway's callback endpoint: verifies every callback's request signature and records its body under its callback_id. */
export interface CallbackReceiver {
  readonly url: string;
  readonly secret: string;
  readonly received: { id: string; body: Record<string, unknown> }[];
  /** Every verified delivery attempt, answered 2xx or not: its request id and its callback_id. */
  readonly attempts: { requestId: string; callbackId: string }[];
  /** Status the receiver answers with (e.g. 500 to make the bank retry). */
  status: number;
  next(match: (body: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts a callback receiver on a free port. */
export async function startCallbackReceiver(clock: Clock = systemClock): Promise<CallbackReceiver> {
  const secret = newWebhookSecret();
  const received: CallbackReceiver['received'] = [];
  const attempts: CallbackReceiver['attempts'] = [];
  const waiters = new Set<() => void>();
  const receiver = { status: 200 } as { status: number };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        const target = routedTarget(`http://callback${req.url ?? '/'}`);
        const { id: requestId } = verifyRequest({
          method: req.method ?? '',
          target,
          headers: req.headers as Record<string, string>,
          body: raw,
          secrets: [secret],
          now: clock.now(),
        });
        const body = JSON.parse(raw) as Record<string, unknown>;
        attempts.push({ requestId, callbackId: String(body.callback_id) });
        if (receiver.status < 300) received.push({ id: String(body.callback_id), body });
        res.writeHead(receiver.status).end();
      } catch {
        res.writeHead(401).end();
      }
      for (const wake of [...waiters]) wake();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bank/callbacks`;
  return Object.assign(receiver, {
    url,
    secret,
    received,
    attempts,
    next(match: (body: Record<string, unknown>) => boolean, timeoutMs = 15_000) {
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        const look = () => {
          const hit = received.find((r) => match(r.body));
          if (hit) {
            clearTimeout(timer);
            waiters.delete(look);
            resolve(hit.body);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`no matching callback within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
        }, timeoutMs);
        waiters.add(look);
        look();
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

export interface TestBank {
  readonly bank: ServiceHandle;
  readonly url: string;
  readonly gatewayKey: string;
  readonly callbacks: CallbackReceiver;
  readonly clock: Clock;
  /** Sends a request signed as the gateway; returns status and parsed JSON body. */
  gateway(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options?: { id?: string; timestamp?: Date; key?: string },
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts a bank on a fresh database (demo cardholder included) with a callback receiver. */
export async function startTestBank(
  engine: Engine,
  options: { clock?: Clock; env?: Record<string, string>; gatewayKey?: string } = {},
): Promise<TestBank> {
  const clock = options.clock ?? systemClock;
  const callbacks = await startCallbackReceiver(clock);
  const gatewayKey = options.gatewayKey ?? newWebhookSecret();
  const database = await freshDatabase(bankDatabaseSpec, engine);
  const config = loadBankConfig({
    BANK_PORT: '0',
    BANK_GATEWAY_KEY: gatewayKey,
    BANK_GATEWAY_CALLBACK_URL: callbacks.url,
    BANK_CALLBACK_SECRET: callbacks.secret,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const bank = await startBank(config, { database, clock, log: createLogger('bank', 'silent'), workerPollMs: 100 });
  const url = bank.url;
  return {
    bank,
    url,
    gatewayKey,
    callbacks,
    clock,
    async gateway(method, path, body, opts = {}) {
      const raw = method === 'GET' || body === undefined ? '' : JSON.stringify(body);
      const headers = signRequest({
        method,
        target: path,
        id: opts.id ?? `sreq_${randomBytes(8).toString('hex')}`,
        timestamp: opts.timestamp ?? clock.now(),
        body: raw,
        secrets: [opts.key ?? gatewayKey],
      });
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) },
        ...(raw ? { body: raw } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await bank.stop();
      await callbacks.close();
    },
  };
}

/** A valid authorisation request body for a card. */
export function authorizationBody(number: string, overrides: Record<string, unknown> = {}) {
  return {
    gateway_ref: `pay_${randomBytes(8).toString('hex')}`,
    card: {
      number,
      exp_month: DEMO_CARDHOLDER.expMonth,
      exp_year: DEMO_CARDHOLDER.expYear,
      cvc: DEMO_CARDHOLDER.cvc,
      name: 'Demo Cardholder',
    },
    amount: { minor: '1250', currency: 'EUR' },
    merchant: { name: 'Countersign Shop' },
    description: 'Order 42',
    reference: 'inv_42',
    ...overrides,
  };
}

/** Creates another cardholder with one account and cards (factory). */
export async function createTestCardholder(
  bank: TestBank,
  input: Partial<NewCardholder> & { cards: NewCardholder['cards'] },
) {
  const email = input.email ?? `holder-${randomBytes(4).toString('hex')}@bank.test`;
  const password = input.password ?? 'correct horse battery staple';
  const created = await bank.bank.database.transaction((tx) =>
    createCardholder(
      tx,
      {
        email,
        password,
        name: input.name ?? 'Test Holder',
        accounts: input.accounts ?? [{ name: 'Current account', balanceMinor: 100_000n }],
        cards: input.cards,
      },
      bank.clock.now(),
    ),
  );
  return { ...created, email, password };
}

/** A fresh card number that passes Luhn and is not a shared test card. */
export function randomCardNumber(): string {
  const digits = [4, ...Array.from({ length: 14 }, () => randomBytes(1)[0]! % 10)];
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = digits[14 - i]!;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return [...digits, (10 - (sum % 10)) % 10].join('');
}

/** Logs in through the form; returns the Cookie header value and the session's CSRF token. */
export async function logIn(
  url: string,
  email: string,
  password: string,
): Promise<{ cookie: string; csrf: string; status: number }> {
  const page = await fetch(`${url}/login`);
  const loginCsrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const loginCookie = (page.headers.getSetCookie().find((c) => c.startsWith('bank_login_csrf=')) ?? '').split(';')[0]!;
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, csrf: loginCsrf }),
  });
  const session = (res.headers.getSetCookie().find((c) => c.startsWith('bank_session=')) ?? '').split(';')[0]!;
  if (!session) return { cookie: '', csrf: '', status: res.status };
  const app = await fetch(`${url}/app`, { headers: { cookie: session } });
  const csrf = /data-csrf="([^"]+)"/.exec(await app.text())?.[1] ?? '';
  return { cookie: session, csrf, status: res.status };
}
