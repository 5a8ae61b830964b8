/**
 * The operator API's own routes (behind ops-guard.ts): `POST /ops/reconcile` runs the operator's
 * reconciliation (commands/reconcile-now.ts) and `GET /ops/status` answers what `countersign doctor`
 * checks — the shop's clock, its migrations, its jobs, fingerprints of its webhook secrets (never a
 * secret) and whether the gateway takes its API key. Thin: parse, call, shape the JSON.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { toJSON } from '../../core/money.ts';
import { secretFingerprint } from '../../core/webhook-signature.ts';
import type { Clock } from '../../platform/clock.ts';
import { migrationStatus, type Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import { jobHealth } from '../../platform/jobs/job-health.ts';
import { reconcileNow, type ReconcileReport } from '../commands/reconcile-now.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import type { ShopConfig } from '../main.ts';
import type { OperatorRoutes } from './ops-guard.ts';

export interface OpsDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly gateway: GatewayPort | undefined;
  /** Which gateway the shop pays through and where (for the operator's eyes). */
  readonly gatewayInfo: { readonly kind: 'ours' | 'stripe'; readonly url: string };
  /** The webhook secrets the intake verifies with now (only their fingerprints leave the shop). */
  readonly webhookSecrets: (now: Date) => Promise<readonly string[]>;
  readonly pendingAgeSeconds: number;
}

/** Jobs due this long and untaken, or a lease ended this long ago, count as stuck. */
export const JOB_STUCK_AFTER_SECONDS = 300;
const FAILED_WITHIN_SECONDS = 24 * 3600;

const reconcileBody = z
  .object({
    dry_run: z.boolean().default(false),
    days: z.number().int().min(1).max(90).default(7),
    limit: z.number().int().min(1).max(1000).default(200),
  })
  .strict();

function reportJson(r: ReconcileReport) {
  return {
    dry_run: r.dryRun,
    scope: { since: r.scope.since.toISOString(), days: r.scope.days, limit: r.scope.limit, compared: r.scope.compared },
    polled: r.polled,
    events_read: r.eventsRead,
    events_waiting: r.eventsWaiting,
    status_reads: r.statusReads,
    findings: r.findings.map((f) => ({
      kind: f.kind,
      why: f.why,
      invoice_id: f.invoiceId,
      order_id: f.orderId,
      attempt_id: f.attemptId,
      session_id: f.sessionId,
      amount: toJSON(f.amount),
      shop: { invoice_status: f.shop.invoiceStatus, attempt_status: f.shop.attemptStatus },
      gateway: { status: f.gateway.status },
      fixed: f.fixed,
    })),
    remaining: r.remaining,
  };
}

/** Whether the gateway takes the shop's key: one cheap authenticated read (the first event of the feed). */
async function gatewayKeyCheck(gateway: GatewayPort | undefined): Promise<{ api_key: string; reason?: string }> {
  if (!gateway) return { api_key: 'not_configured', reason: 'SHOP_GATEWAY_API_KEY is not set' };
  try {
    await gateway.listEvents(null, 1);
    return { api_key: 'ok' };
  } catch (err) {
    const status = isDomainError(err) ? (err.details?.status as number | undefined) : undefined;
    if (status === 401 || status === 403) return { api_key: 'refused', reason: `the gateway answered ${status}` };
    return { api_key: 'unreachable', reason: status ? `the gateway answered ${status}` : 'no answer' };
  }
}

/** What the operator API's own routes need (the token guard is mountOperatorApi's). */
export function operatorDeps(
  config: Pick<ShopConfig, 'payments' | 'stripe'>,
  deps: Pick<OpsDeps, 'database' | 'clock' | 'gateway'>,
): OpsDeps {
  const p = config.payments;
  const gatewayInfo =
    config.stripe.gateway === 'stripe'
      ? { kind: 'stripe' as const, url: config.stripe.apiUrl ?? 'https://api.stripe.com' }
      : { kind: 'ours' as const, url: p.gatewayUrl };
  return {
    ...deps,
    gatewayInfo,
    pendingAgeSeconds: p.reconcilePendingAgeSeconds,
    webhookSecrets: async () => p.webhookSecrets,
  };
}

/** The operator routes of this file, as a registrar for mountOperatorApi. */
export function opsRoutes(deps: OpsDeps): OperatorRoutes {
  return (ops: OpenAPIHono<AppEnv>) => {
    ops.post('/reconcile', async (c) => {
      const raw = (await c.req.json().catch(() => {
        throw new DomainError('request.malformed', { reason: 'the body is not JSON' });
      })) as unknown;
      const body = reconcileBody.parse(raw ?? {});
      if (!deps.gateway) throw new DomainError('upstream.unavailable', { reason: 'no gateway configured' });
      const report = await reconcileNow(
        { database: deps.database, clock: deps.clock, gateway: deps.gateway },
        { dryRun: body.dry_run, days: body.days, limit: body.limit, pendingAgeSeconds: deps.pendingAgeSeconds },
      );
      return c.json(reportJson(report));
    });

    ops.get('/status', async (c) => {
      const now = deps.clock.now();
      const [migrations, jobs, secrets, gateway] = await Promise.all([
        migrationStatus(deps.database),
        jobHealth(deps.database.db, now, {
          stuckAfterSeconds: JOB_STUCK_AFTER_SECONDS,
          failedWithinSeconds: FAILED_WITHIN_SECONDS,
        }),
        deps.webhookSecrets(now),
        gatewayKeyCheck(deps.gateway),
      ]);
      return c.json({
        service: 'shop',
        time: now.toISOString(),
        migrations,
        jobs: {
          stuck_after_seconds: JOB_STUCK_AFTER_SECONDS,
          overdue: jobs.overdue,
          oldest_due_at: jobs.oldestDueAt?.toISOString() ?? null,
          abandoned: jobs.abandoned,
          failed_within_seconds: FAILED_WITHIN_SECONDS,
          failed: jobs.failed,
          latest_failed: jobs.latestFailed.map((j) => ({ id: j.id, task: j.task, at: j.at.toISOString() })),
        },
        webhook_secrets: { fingerprints: secrets.map(secretFingerprint) },
        gateway: { kind: deps.gatewayInfo.kind, url: deps.gatewayInfo.url, ...gateway },
      });
    });
  };
}
