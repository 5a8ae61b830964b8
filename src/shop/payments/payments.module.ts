/**
 * Wires gateway payments into the shop's composition root: the webhook intake, the invoice page's script, the
 * real-time hub on /ws (only the invoice's owner or staff may join its room), and the worker running
 * reconciliation, the expiry job and session cancellations.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../platform/http/app.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createWorker, type JobHandler, type RecurringJob, type Worker } from '../../platform/jobs/jobs.ts';
import type { Logger } from '../../platform/log.ts';
import { createHub } from '../../platform/realtime/index.ts';
import { canView } from '../domain/access.ts';
import type { ShopSettings } from '../routes/context.ts';
import { clientAddress, SESSION_COOKIE } from '../routes/session.ts';
import { userForSession } from '../storage/accounts.ts';
import { getInvoice } from '../storage/orders.ts';
import type { ShopGateway } from './gateway-events.ts';
import { CANCEL_SESSION_TASK, cancelGatewaySession, expireInvoices, reconcileOnce } from './reconcile.ts';
import { DEFAULT_REFUSAL_LIMITS, pruneRefusals, REFUSAL_PRUNE_EVERY_SECONDS, REFUSAL_PRUNE_TASK, type RefusalLimits } from './webhook-refusals.ts';
import { webhookRoutes } from './webhook.routes.ts';

/** The shop's payment settings (parsed in main.ts). */
export interface PaymentsConfig {
  readonly gatewayUrl: string;
  readonly gatewayApiKey: string | undefined;
  readonly webhookSecrets: readonly string[];
  readonly gatewayTimeoutMs: number;
  readonly reconcileEverySeconds: number;
  readonly reconcilePendingAgeSeconds: number;
  readonly expiryEverySeconds: number;
  readonly jobPollMs: number;
  /** A claimed job's lease: after a node dies, its jobs wait this long before another node takes them. */
  readonly jobLeaseSeconds?: number;
  /** Deliveries refused before verification: the per-address limit, samples kept, retention (SHOP_WEBHOOK_REFUSAL*). */
  readonly refusalLimits?: RefusalLimits;
}

export const RECONCILE_TASK = 'shop.payment.reconcile';
export const EXPIRY_TASK = 'shop.invoice.expire';

/** The value of one cookie of an upgrade request. */
export function cookieFrom(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Decides whether the upgrade request's user may join a room: `invoice:<id>` of their own, or any as staff. */
export function invoiceRoomAuthorizer(database: Database, clock: Clock) {
  return async (room: string, req: IncomingMessage): Promise<boolean> => {
    const origin = req.headers.origin;
    // Only a page of this host (cross-site WebSocket hijacking would ride the cookie).
    if (origin !== undefined && new URL(origin).host !== req.headers.host) return false;
    const m = /^invoice:(inv_[0-9A-Za-z]{1,60})$/.exec(room);
    if (!m) return false;
    const token = cookieFrom(req, SESSION_COOKIE);
    if (!token) return false;
    const user = await userForSession(database.db, token, clock.now());
    if (!user) return false;
    const invoice = await getInvoice(database.db, m[1]!);
    return invoice !== undefined && canView(user, invoice.userId);
  };
}

/** Creates the payments module; nothing runs until start(). */
export function createPayments(input: {
  app: OpenAPIHono<AppEnv>;
  database: Database;
  clock: Clock;
  log: Logger;
  config: PaymentsConfig;
  gateway: ShopGateway | undefined;
  settings: ShopSettings;
  runJobs: boolean;
  /** Other shop tasks (integrations, refunds): ONE worker per shop process must know every task the shop enqueues, or it fails them as unknown. */
  tasks?: Readonly<Record<string, JobHandler>>;
  recurring?: readonly RecurringJob[];
}) {
  const { app, database, clock, log, config, gateway } = input;
  const refusalLimits = config.refusalLimits ?? DEFAULT_REFUSAL_LIMITS;
  const trustProxy = input.settings.trustedProxyHops;
  webhookRoutes(app, { database, clock, log, secrets: config.webhookSecrets, refusalLimits, addressOf: (c) => clientAddress(c, trustProxy) });
  if (config.webhookSecrets.length === 0) log.warn({}, 'SHOP_GATEWAY_WEBHOOK_SECRETS is not set: webhooks will be refused');

  const hub = createHub({ database, log, authorize: invoiceRoomAuthorizer(database, clock) });
  let worker: Worker | undefined;
  if (input.runJobs) {
    const deps = gateway ? { database, clock, gateway } : undefined;
    worker = createWorker({
      database,
      clock,
      log,
      concurrency: 2,
      pollIntervalMs: config.jobPollMs,
      ...(config.jobLeaseSeconds ? { leaseSeconds: config.jobLeaseSeconds } : {}),
      recurring: [
        { task: EXPIRY_TASK, everySeconds: config.expiryEverySeconds },
        { task: REFUSAL_PRUNE_TASK, everySeconds: REFUSAL_PRUNE_EVERY_SECONDS },
        ...(deps ? [{ task: RECONCILE_TASK, everySeconds: config.reconcileEverySeconds }] : []),
        ...(input.recurring ?? []),
      ],
      tasks: {
        ...input.tasks,
        [EXPIRY_TASK]: async () => {
          const expired = await expireInvoices({ database, clock });
          if (expired.length) worker?.wake();
        },
        [REFUSAL_PRUNE_TASK]: () => pruneRefusals(database.db, clock.now(), refusalLimits),
        [RECONCILE_TASK]: async () => {
          if (!deps) return;
          await reconcileOnce(deps, { pendingAgeSeconds: config.reconcilePendingAgeSeconds });
        },
        [CANCEL_SESSION_TASK]: async (payload) => {
          if (!deps) return;
          await cancelGatewaySession(deps, payload);
        },
      },
    });
  }

  return {
    async start() {
      await hub.start();
      await worker?.start();
    },
    attach(server: Server) {
      hub.attach(server);
      // server.close() waits for upgraded sockets too, which only hub.stop() ends (as in the bank).
      const close = server.close.bind(server);
      server.close = ((callback?: (err?: Error) => void) => {
        void hub.stop();
        return close(callback);
      }) as typeof server.close;
    },
    async stop() {
      await hub.stop();
      await worker?.stop();
    },
  };
}
