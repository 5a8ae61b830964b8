// The merchant changes a Stripe-format webhook endpoint (POST /v1/webhook_endpoints/{id}): its URL,
// events, description, metadata, and `disabled` (through the endpoint machine), in one transaction.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { WebhookEndpointRow } from '../storage/stripe-tables.ts';
import { editWebhookEndpoint, lockWebhookEndpoint, moveWebhookEndpoint } from '../storage/webhook-endpoints.ts';

function mergeMetadata(current: Record<string, string>, patch: Record<string, string | null>): Record<string, string> {
  const out = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Applies the changes; undefined when the endpoint is not this merchant's (or is deleted). */
export function updateWebhookEndpoint(
  deps: { database: Database; clock: Clock },
  merchantId: string,
  id: string,
  patch: {
    url?: string;
    enabledEvents?: string[];
    description?: string | null;
    /** Keys to set; a null value removes the key (Stripe's `metadata[key]=`). */
    metadata?: Record<string, string | null>;
    disabled?: boolean;
  },
): Promise<WebhookEndpointRow | undefined> {
  const { database, clock } = deps;
  return database.transaction(async (tx) => {
    const endpoint = await lockWebhookEndpoint(tx, merchantId, id);
    if (!endpoint) return undefined;
    const { disabled, metadata, ...settings } = patch;
    const merged = metadata === undefined ? undefined : mergeMetadata(endpoint.metadata, metadata);
    let row = await editWebhookEndpoint(
      tx,
      endpoint.id,
      { ...settings, ...(merged ? { metadata: merged } : {}) },
      clock,
    );
    if (disabled !== undefined) row = await moveWebhookEndpoint(tx, row, disabled ? 'disable' : 'enable', clock);
    return row;
  });
}

/** Deletes an endpoint (kept as `deleted` for its deliveries' history); false when not this merchant's. */
export function deleteWebhookEndpoint(
  deps: { database: Database; clock: Clock },
  merchantId: string,
  id: string,
): Promise<boolean> {
  const { database, clock } = deps;
  return database.transaction(async (tx) => {
    const endpoint = await lockWebhookEndpoint(tx, merchantId, id);
    if (!endpoint) return false;
    await moveWebhookEndpoint(tx, endpoint, 'delete', clock);
    return true;
  });
}
