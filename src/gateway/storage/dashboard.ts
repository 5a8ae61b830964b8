// Dashboard storage: login sessions (sha256 of the cookie token) and the read models of its pages.
import { attemptsOfDeliveries } from './deliveries.ts';
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, inArray } from 'drizzle-orm';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { DashboardRole } from '../domain/dashboard-account.rule.ts';
import { dashboardUsers } from './account-tables.ts';
import { stripeEventsOfSession } from './stripe-events.ts';
import {
  apiKeys,
  dashboardSessions,
  events,
  merchants,
  paymentSessions,
  refunds,
  signingSecrets,
  webhookDeliveries,
  type MerchantRow,
} from './tables.ts';

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/** Opens a login session; returns the cookie token and the CSRF token of its forms. */
export async function openDashboardSession(
  db: Executor,
  merchantId: string,
  ttlSeconds: number,
  clock: Clock,
  userId: string | null = null,
): Promise<{ token: string; csrf: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = clock.now();
  await db.insert(dashboardSessions).values({
    tokenHash: sha256(token),
    merchantId,
    userId,
    csrf,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
  });
  return { token, csrf };
}

/** Who is logged in: a dashboard user, or (user null) the holder of a secret API key, who acts as an owner. */
export interface DashboardLogin {
  readonly merchant: MerchantRow;
  readonly csrf: string;
  readonly user: { id: string; email: string; role: DashboardRole } | null;
}

/** The merchant, user and CSRF token of a live login session, or null (a removed user's sessions are dead). */
export async function readDashboardSession(db: Executor, token: string, clock: Clock): Promise<DashboardLogin | null> {
  const [row] = await db
    .select({
      merchant: merchants,
      csrf: dashboardSessions.csrf,
      userId: dashboardSessions.userId,
      user: { id: dashboardUsers.id, email: dashboardUsers.email, role: dashboardUsers.role },
    })
    .from(dashboardSessions)
    .innerJoin(merchants, eq(merchants.id, dashboardSessions.merchantId))
    .leftJoin(
      dashboardUsers,
      and(eq(dashboardUsers.id, dashboardSessions.userId), eq(dashboardUsers.merchantId, dashboardSessions.merchantId)),
    )
    .where(and(eq(dashboardSessions.tokenHash, sha256(token)), gt(dashboardSessions.expiresAt, clock.now())));
  if (!row || (row.userId !== null && row.user === null)) return null;
  return { merchant: row.merchant, csrf: row.csrf, user: row.user };
}

/** Ends a login session. */
export async function closeDashboardSession(db: Executor, token: string): Promise<void> {
  await db.delete(dashboardSessions).where(eq(dashboardSessions.tokenHash, sha256(token)));
}

/** The latest payments of a merchant. */
export function listPayments(db: Executor, merchantId: string, limit = 50) {
  return db
    .select()
    .from(paymentSessions)
    .where(eq(paymentSessions.merchantId, merchantId))
    .orderBy(desc(paymentSessions.createdAt))
    .limit(limit);
}

/** One payment's events, their deliveries with every attempt, and its refunds. */
export async function paymentDetail(db: Executor, merchantId: string, sessionId: string) {
  const [session] = await db
    .select()
    .from(paymentSessions)
    .where(and(eq(paymentSessions.id, sessionId), eq(paymentSessions.merchantId, merchantId)));
  if (!session) return null;
  const native = await db.select().from(events).where(eq(events.sessionId, sessionId)).orderBy(asc(events.cursor));
  // A Stripe session's deliveries are of its Stripe events: both kinds are listed, in time order.
  const stripe = await stripeEventsOfSession(db, sessionId);
  const evs = [
    ...native.map((e) => ({ id: e.id, type: e.type, sequence: e.sequence as number | null, createdAt: e.createdAt })),
    ...stripe.map((e) => ({ id: e.id, type: e.type, sequence: null, createdAt: e.createdAt })),
  ].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const deliveries = evs.length
    ? await db
        .select()
        .from(webhookDeliveries)
        .where(
          inArray(
            webhookDeliveries.eventId,
            evs.map((e) => e.id),
          ),
        )
        .orderBy(asc(webhookDeliveries.createdAt))
    : [];
  const attempts = await attemptsOfDeliveries(
    db,
    deliveries.map((d) => d.id),
  );
  const refundRows = await db
    .select()
    .from(refunds)
    .where(eq(refunds.sessionId, sessionId))
    .orderBy(asc(refunds.createdAt));
  return { session, events: evs, deliveries, attempts, refunds: refundRows };
}

/** API keys (prefix only) and signing secrets (metadata only) of a merchant. */
export async function credentials(db: Executor, merchantId: string) {
  const keys = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.merchantId, merchantId))
    .orderBy(desc(apiKeys.createdAt));
  const secrets = await db
    .select({
      id: signingSecrets.id,
      createdAt: signingSecrets.createdAt,
      retiredAt: signingSecrets.retiredAt,
      expiresAt: signingSecrets.expiresAt,
      secret: signingSecrets.secret,
    })
    .from(signingSecrets)
    .where(eq(signingSecrets.merchantId, merchantId))
    .orderBy(desc(signingSecrets.createdAt));
  return {
    keys,
    secrets: secrets.map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      retiredAt: s.retiredAt,
      expiresAt: s.expiresAt,
      hint: `${s.secret.slice(0, 10)}…`,
    })),
  };
}
