// /v1/webhook_endpoints of the Stripe dialect: create (the `secret` answered once), list, retrieve,
// update (url, enabled_events, disabled, description, metadata), delete. The URL is held to the same
// rule as the native webhook URL (domain/webhook-url.rule.ts); `enabled_events[]` is required, each a
// type the gateway emits or `*`. Another merchant's endpoint is `resource_missing`; the secret is never
// in a list, a retrieve or an update.
import { createWebhookEndpoint } from '../../commands/create-webhook-endpoint.ts';
import { deleteWebhookEndpoint, updateWebhookEndpoint } from '../../commands/update-webhook-endpoint.ts';
import { isStripeEventType } from '../../domain/stripe-event-map.ts';
import { type WebhookNetworks, webhookUrlProblem } from '../../domain/webhook-url.rule.ts';
import type { WebhookEndpointRow } from '../../storage/stripe-tables.ts';
import { findWebhookEndpoint, listWebhookEndpoints } from '../../storage/webhook-endpoints.ts';
import { invalidParam, resourceMissing } from './errors.ts';
import type { StripeDeps, StripeRouter } from './context.ts';
import { bool, hash, metadata, str } from './form.ts';
import { cursorParam, listLimit } from './list-params.ts';

type Params = Record<string, unknown>;

/** An endpoint as Stripe renders it; `secret` only in the answer to its creation. */
export function webhookEndpointObject(e: WebhookEndpointRow, withSecret = false): Record<string, unknown> {
  return {
    id: e.id,
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: Math.floor(e.createdAt.getTime() / 1000),
    description: e.description,
    enabled_events: e.enabledEvents,
    livemode: false,
    metadata: e.metadata,
    ...(withSecret ? { secret: e.secret } : {}),
    status: e.status,
    url: e.url,
  };
}

function endpointUrl(
  params: Params,
  rule: { allowHttp: boolean; networks: WebhookNetworks },
  required: boolean,
): string | undefined {
  const url = str(params, 'url', 'url', 2048);
  if (url === undefined || url === '') {
    if (required) throw invalidParam('url', 'Missing required param: url.', 'parameter_missing');
    return undefined;
  }
  const problem = webhookUrlProblem(url, rule.allowHttp, rule.networks);
  if (problem) throw invalidParam('url', `Invalid URL: ${problem}`, 'url_invalid');
  return url;
}

function enabledEvents(params: Params, required: boolean): string[] | undefined {
  const v = params.enabled_events;
  if (v === undefined || v === '') {
    if (required) throw invalidParam('enabled_events', 'Missing required param: enabled_events.', 'parameter_missing');
    return undefined;
  }
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > 100) throw invalidParam('enabled_events', 'Invalid array: enabled_events');
  list.forEach((t, i) => {
    if (typeof t !== 'string' || (t !== '*' && !isStripeEventType(t)))
      throw invalidParam(
        `enabled_events[${i}]`,
        `Invalid enabled_events[${i}]: must be '*' or one of the event types this gateway sends (GET /v1/events lists them).`,
      );
  });
  return [...new Set(list as string[])];
}

function description(params: Params): string | null | undefined {
  const v = str(params, 'description', 'description', 5000);
  return v === undefined ? undefined : v === '' ? null : v;
}

/** An update's metadata: keys to set, and keys given as "" to remove (null). */
function metadataPatch(params: Params): Record<string, string | null> {
  const set: Record<string, string | null> = metadata(params);
  for (const [key, value] of Object.entries(hash(params, 'metadata'))) if (value === '') set[key] = null;
  return set;
}

/** /v1/webhook_endpoints: create, list, retrieve, update, delete. */
export function webhookEndpointRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database } = deps.gateway;
  const rule = { allowHttp: deps.allowHttpWebhooks ?? false, networks: deps.webhookNetworks ?? 'loopback' } as const;

  router.post('/v1/webhook_endpoints', async (c) => {
    const { merchant, params } = c.env;
    const e = await createWebhookEndpoint(deps.gateway, {
      merchantId: merchant.id,
      url: endpointUrl(params, rule, true)!,
      enabledEvents: enabledEvents(params, true)!,
      description: description(params) ?? null,
      metadata: metadata(params),
    });
    return c.json(webhookEndpointObject(e, true));
  });

  router.get('/v1/webhook_endpoints', async (c) => {
    const { merchant, params } = c.env;
    const limit = listLimit(params);
    const all = await listWebhookEndpoints(database.db, merchant.id);
    const after = cursorParam(params, 'starting_after');
    const before = cursorParam(params, 'ending_before');
    const at = (id: string, param: string) => {
      const i = all.findIndex((e) => e.id === id);
      if (i < 0) throw resourceMissing('webhook_endpoint', id, param);
      return i;
    };
    const start = after ? at(after, 'starting_after') + 1 : 0;
    const end = before ? at(before, 'ending_before') : all.length;
    const page = before && !after ? all.slice(Math.max(0, end - limit), end) : all.slice(start, start + limit);
    const hasMore = before && !after ? end - limit > 0 : start + limit < end;
    return c.json({
      object: 'list',
      data: page.map((e) => webhookEndpointObject(e)),
      has_more: hasMore,
      url: '/v1/webhook_endpoints',
    });
  });

  router.get('/v1/webhook_endpoints/:id', async (c) => {
    const id = c.req.param('id');
    const e = await findWebhookEndpoint(database.db, c.env.merchant.id, id);
    if (!e) throw resourceMissing('webhook_endpoint', id);
    return c.json(webhookEndpointObject(e));
  });

  router.post('/v1/webhook_endpoints/:id', async (c) => {
    const id = c.req.param('id');
    const { merchant, params } = c.env;
    const url = endpointUrl(params, rule, false);
    const events = enabledEvents(params, false);
    const desc = description(params);
    const disabled = bool(params, 'disabled');
    const e = await updateWebhookEndpoint(deps.gateway, merchant.id, id, {
      ...(url === undefined ? {} : { url }),
      ...(events === undefined ? {} : { enabledEvents: events }),
      ...(desc === undefined ? {} : { description: desc }),
      ...(params.metadata === undefined ? {} : { metadata: metadataPatch(params) }),
      ...(disabled === undefined ? {} : { disabled }),
    });
    if (!e) throw resourceMissing('webhook_endpoint', id);
    return c.json(webhookEndpointObject(e));
  });

  router.delete('/v1/webhook_endpoints/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await deleteWebhookEndpoint(deps.gateway, c.env.merchant.id, id)))
      throw resourceMissing('webhook_endpoint', id);
    return c.json({ id, object: 'webhook_endpoint', deleted: true });
  });
}
