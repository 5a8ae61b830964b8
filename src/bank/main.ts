// Composition root of the bank: reads its configuration, wires storage, routes, jobs and the
// real-time hub by hand, and creates the demo cardholder at first start.
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { systemClock, type Clock } from '../platform/clock.ts';
import { parseEnv, positiveInt } from '../platform/config.ts';
import { DEFAULT_JOB_RETENTION_DAYS } from '../platform/jobs/prune.ts';
import type { Database } from '../platform/db/database.ts';
import { outboundFetch } from '../platform/http/outbound.ts';
import { createWorker, type Worker } from '../platform/jobs/jobs.ts';
import type { Logger } from '../platform/log.ts';
import { createHub } from '../platform/realtime/index.ts';
import {
  bootService,
  isMain,
  parseServiceBase,
  runAsMain,
  type ServiceBase,
  type ServiceHandle,
} from '../platform/service.ts';
import { findSession, SESSION_COOKIE } from './auth/sessions.ts';
import { BANK_RECURRING, bankTasks } from './jobs/bank-jobs.ts';
import { appRoutes } from './routes/app.routes.tsx';
import { documentGatewayApi } from './routes/gateway-api.docs.ts';
import { gatewayApiRoutes } from './routes/gateway-api.routes.ts';
import { documentDisputeApi } from './routes/dispute-api.docs.ts';
import { cardholderRoom, type IssuerSettings } from './storage/bank-settings.ts';
import { ensureDemoCardholder } from './storage/seed-demo.ts';

/** The bank's database: its schema history. */
export const bankDatabaseSpec = {
  name: 'bank',
  migrationsFolder: fileURLToPath(new URL('./storage/migrations', import.meta.url)),
} as const;

const secretList = z
  .string()
  .min(1)
  .transform((v) => v.split(/[\s,]+/).filter((s) => s.length > 0))
  .pipe(
    z
      .array(z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must be whsec_<base64> (comma-separated during a rotation)'))
      .min(1),
  );

export interface BankConfig {
  readonly base: ServiceBase;
  /** Secrets the gateway signs its requests with (BANK_GATEWAY_KEY; two during a rotation). */
  readonly gatewayKeys: readonly string[];
  /** Where decisions on pending authorisations are POSTed (BANK_GATEWAY_CALLBACK_URL). */
  readonly callbackUrl: string;
  /** Secrets the bank signs its callbacks with (BANK_CALLBACK_SECRET). */
  readonly callbackSecrets: readonly string[];
  readonly issuer: IssuerSettings;
  /** Create the demo cardholder at start (BANK_DEMO_CARDHOLDER, default true). */
  readonly seedDemo: boolean;
  /** Days a succeeded job is kept before the retention job deletes it (BANK_JOB_RETENTION_DAYS, default 7). */
  readonly jobRetentionDays: number;
}

/** The bank's configuration, parsed from the environment. */
export function loadBankConfig(env: Record<string, string | undefined> = process.env): BankConfig {
  const base = parseServiceBase('bank', 3002, env);
  const raw = parseEnv(
    'bank',
    {
      BANK_GATEWAY_KEY: secretList,
      BANK_GATEWAY_CALLBACK_URL: z.url(),
      BANK_CALLBACK_SECRET: secretList,
      BANK_APPROVAL_TIMEOUT_SECONDS: positiveInt(120),
      BANK_PROCESSING_DELAY_SECONDS: positiveInt(3),
      BANK_DISPUTE_WINDOW_SECONDS: positiveInt(7 * 86_400),
      BANK_DEMO_CARDHOLDER: z.enum(['true', 'false']).default('true'),
      // Days a succeeded job is kept (failed, pending and recurring jobs are never deleted).
      BANK_JOB_RETENTION_DAYS: positiveInt(DEFAULT_JOB_RETENTION_DAYS),
      // Merchants (the gateway's ids, comma-separated) whose account at the bank is closed: payouts to them are refused.
      BANK_PAYOUT_REFUSED_MERCHANTS: z
        .string()
        .default('')
        .transform((v) => v.split(/[\s,]+/).filter((s) => s.length > 0)),
    },
    env,
  );
  return Object.freeze({
    base,
    gatewayKeys: raw.BANK_GATEWAY_KEY,
    callbackUrl: raw.BANK_GATEWAY_CALLBACK_URL,
    callbackSecrets: raw.BANK_CALLBACK_SECRET,
    issuer: Object.freeze({
      approvalTimeoutSeconds: raw.BANK_APPROVAL_TIMEOUT_SECONDS,
      processingDelaySeconds: raw.BANK_PROCESSING_DELAY_SECONDS,
      disputeWindowSeconds: raw.BANK_DISPUTE_WINDOW_SECONDS,
      payoutRefusedMerchants: Object.freeze(raw.BANK_PAYOUT_REFUSED_MERCHANTS),
    }),
    seedDemo: raw.BANK_DEMO_CARDHOLDER === 'true',
    jobRetentionDays: raw.BANK_JOB_RETENTION_DAYS,
  });
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Starts the bank service. */
export async function startBank(
  config: BankConfig,
  deps: { database?: Database; log?: Logger; clock?: Clock; workerPollMs?: number } = {},
): Promise<ServiceHandle> {
  const clock = deps.clock ?? systemClock;
  return bootService({
    name: 'bank',
    spec: bankDatabaseSpec,
    base: config.base,
    ...(deps.database ? { database: deps.database } : {}),
    ...(deps.log ? { log: deps.log } : {}),
    compose: async ({ app, database, log }) => {
      if (config.seedDemo) await ensureDemoCardholder(database, clock.now());
      let worker: Worker | undefined;
      const wake = () => worker?.wake();
      worker = createWorker({
        database,
        clock,
        log,
        concurrency: 4,
        // Callbacks are what the payer's browser waits for: retry soon at first, then back off.
        retry: { baseMs: 1_000, capMs: 600_000 },
        pollIntervalMs: deps.workerPollMs ?? 500,
        recurring: BANK_RECURRING,
        tasks: bankTasks({
          database,
          clock,
          callback: {
            url: config.callbackUrl,
            secrets: config.callbackSecrets,
            fetch: outboundFetch(config.base.tls.ca),
          },
          wake,
          jobRetentionMs: config.jobRetentionDays * 86_400_000,
          log,
        }),
      });
      const hub = createHub({
        database,
        log,
        // Only a cardholder's own room, from the session cookie of the upgrade request; and only from
        // a page of this host (the Origin check stops cross-site WebSocket hijacking).
        authorize: async (room, req) => {
          const origin = req.headers.origin;
          if (origin !== undefined && new URL(origin).host !== req.headers.host) return false;
          const session = await findSession(database.db, cookieValue(req, SESSION_COOKIE), clock.now());
          return session !== undefined && room === cardholderRoom(session.cardholderId);
        },
      });
      documentGatewayApi(app.openAPIRegistry);
      documentDisputeApi(app.openAPIRegistry);
      app.route(
        '/api/v1',
        gatewayApiRoutes({ database, clock, settings: config.issuer, gatewayKeys: config.gatewayKeys, wake }),
      );
      app.route(
        '/',
        appRoutes({
          database,
          clock,
          secureCookies: config.base.publicUrl.startsWith('https:'),
          wake,
          disputeWindowSeconds: config.issuer.disputeWindowSeconds,
        }),
      );
      app.get('/', (c) => c.redirect('/app', 303));
      await hub.start();
      await worker.start();
      return {
        onListening: (server) => {
          hub.attach(server);
          // bootService closes the HTTP server before onStop, and server.close() waits for every
          // connection, upgraded WebSockets included, which only hub.stop() ends: without this an
          // open bank app would hang the shutdown. Stopping the hub first lets the close finish.
          const close = server.close.bind(server);
          server.close = ((callback?: (err?: Error) => void) => {
            void hub.stop();
            return close(callback);
          }) as typeof server.close;
        },
        onStop: async () => {
          await hub.stop();
          await worker.stop();
        },
      };
    },
  });
}

if (isMain(import.meta.url)) void runAsMain(() => startBank(loadBankConfig()));
