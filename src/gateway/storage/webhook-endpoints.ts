// Stripe-format webhook endpoints of a merchant. `moveWebhookEndpoint` is the one writer of
// `webhook_endpoints.status` (enabled | disabled | deleted, domain/webhook-endpoint.machine.ts); the
// other columns (url, enabled events, description, metadata) are edited by `editWebhookEndpoint`.
import { and, desc, eq, ne } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { webhookEndpointMachine, type WebhookEndpointEvent } from '../domain/webhook-endpoint.machine.ts';
import { webhookEndpoints, type WebhookEndpointRow } from './stripe-tables.ts';

/** A fresh endpoint id, `we_` and a time-sortable body. */
export function newWebhookEndpointId(now: Date): string {
  return `we_${newId('whe', now).slice('whe_'.length)}`;
}

/** Inserts an endpoint in its first state, enabled. */
export async function insertWebhookEndpoint(
  db: Executor,
  input: {
    id?: string;
    merchantId: string;
    url: string;
    enabledEvents: string[];
    secret: string;
    description: string | null;
    metadata: Record<string, string>;
  },
  clock: Clock,
): Promise<WebhookEndpointRow> {
  const now = clock.now();
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ ...input, id: input.id ?? newWebhookEndpointId(now), status: 'enabled', createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

/** A merchant's endpoint (not deleted), or undefined: another merchant's endpoint is not found. */
export async function findWebhookEndpoint(
  db: Executor,
  merchantId: string,
  id: string,
): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.id, id),
        eq(webhookEndpoints.merchantId, merchantId),
        ne(webhookEndpoints.status, 'deleted'),
      ),
    );
  return row;
}

/** An endpoint by id whatever its state and merchant (the delivery job's look-up). */
export async function endpointById(db: Executor, id: string): Promise<WebhookEndpointRow | undefined> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  return row;
}

/** Reads and row-locks an endpoint of a merchant for the rest of the transaction. */
export async function lockWebhookEndpoint(
  tx: Executor,
  merchantId: string,
  id: string,
): Promise<WebhookEndpointRow | undefined> {
  const [row] = await tx
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.merchantId, merchantId)))
    .for('update');
  return row && row.status !== 'deleted' ? row : undefined;
}

/** A merchant's endpoints that are not deleted, newest first. */
export function listWebhookEndpoints(db: Executor, merchantId: string): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.merchantId, merchantId), ne(webhookEndpoints.status, 'deleted')))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
}

/** The endpoints of a merchant that receive events now. */
export function enabledWebhookEndpoints(db: Executor, merchantId: string): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.merchantId, merchantId), eq(webhookEndpoints.status, 'enabled')));
}

/** The one writer of an endpoint's status: applies an event to a locked endpoint, as the machine allows. */
export async function moveWebhookEndpoint(
  tx: Executor,
  endpoint: WebhookEndpointRow,
  event: WebhookEndpointEvent,
  clock: Clock,
): Promise<WebhookEndpointRow> {
  const { state } = webhookEndpointMachine.apply(endpoint.status, event);
  const [row] = await tx
    .update(webhookEndpoints)
    .set({ status: state, updatedAt: clock.now() })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return row!;
}

/** Changes an endpoint's settings (never its status, never its secret). */
export async function editWebhookEndpoint(
  tx: Executor,
  id: string,
  patch: { url?: string; enabledEvents?: string[]; description?: string | null; metadata?: Record<string, string> },
  clock: Clock,
): Promise<WebhookEndpointRow> {
  const [row] = await tx
    .update(webhookEndpoints)
    .set({
      ...(patch.url === undefined ? {} : { url: patch.url }),
      ...(patch.enabledEvents === undefined ? {} : { enabledEvents: patch.enabledEvents }),
      ...(patch.description === undefined ? {} : { description: patch.description }),
      ...(patch.metadata === undefined ? {} : { metadata: patch.metadata }),
      updatedAt: clock.now(),
    })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row!;
}

/**
 * The configured endpoint (GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL/_SECRET), imposed at every start:
 * the merchant's live endpoint with that secret gets the URL, `['*']` and `enabled`; none, one is made.
 */
export async function upsertConfiguredEndpoint(
  tx: Executor,
  input: { merchantId: string; url: string; secret: string },
  clock: Clock,
): Promise<WebhookEndpointRow> {
  const [existing] = await tx
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.merchantId, input.merchantId),
        eq(webhookEndpoints.secret, input.secret),
        ne(webhookEndpoints.status, 'deleted'),
      ),
    )
    .for('update');
  if (!existing)
    return insertWebhookEndpoint(
      tx,
      { ...input, enabledEvents: ['*'], description: 'configured at start', metadata: {} },
      clock,
    );
  const edited = await editWebhookEndpoint(tx, existing.id, { url: input.url, enabledEvents: ['*'] }, clock);
  return edited.status === 'enabled' ? edited : moveWebhookEndpoint(tx, edited, 'enable', clock);
}
