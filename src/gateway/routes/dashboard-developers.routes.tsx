// The dashboard's developer screens: API keys and signing secrets (/settings), webhook endpoints
// (/webhooks) and fault injection (/faults). Reading is for every user; changing is for owners.
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { createWebhookEndpoint } from '../commands/create-webhook-endpoint.ts';
import { createApiKey, revokeKey, rollKey, ROLL_OVERLAPS } from '../commands/manage-api-keys.ts';
import { rotateSigningSecret } from '../commands/rotate-signing-secret.ts';
import { sendTestWebhook } from '../commands/send-test-webhook.ts';
import { updateWebhookEndpoint } from '../commands/update-webhook-endpoint.ts';
import { faultConfigSchema } from '../domain/faults.ts';
import { webhookUrlProblem } from '../domain/webhook-url.rule.ts';
import { SettingsPage, WebhooksPage } from '../pages/dashboard-developers.page.tsx';
import { FaultsPage } from '../pages/dashboard-faults.page.tsx';
import { listApiKeys } from '../storage/api-keys.ts';
import { credentials } from '../storage/dashboard.ts';
import { readFaults, setFaults } from '../storage/faults.ts';
import { findMerchant, setWebhookEnabled, setWebhookUrl } from '../storage/merchants.ts';
import { listWebhookEndpoints } from '../storage/webhook-endpoints.ts';
import { faultBody } from './api.contract.ts';
import { field, html, requireOwner, viewOf, type DashboardDeps, type Env, type Router } from './dashboard-kit.ts';

type Shown = { label: string; value: string } | undefined;

/** /settings (keys, secrets), /webhooks, /faults. */
export function registerDeveloperRoutes(router: Router, deps: DashboardDeps): void {
  registerKeyRoutes(router, deps);
  registerWebhookRoutes(router, deps);
  registerFaultRoutes(router, deps);
}

function registerKeyRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const page = async (c: Context<Env>, shownOnce?: Shown) => {
    const merchantId = c.get('merchant').id;
    const { secrets } = await credentials(database.db, merchantId);
    const keys = await listApiKeys(database.db, merchantId);
    return html(c, <SettingsPage view={viewOf(c, clock)} keys={keys} secrets={secrets} shownOnce={shownOnce} />);
  };
  router.get('/settings', (c) => page(c));
  router.post('/settings/keys', async (c) => {
    requireOwner(c, 'keys');
    return page(c, { label: 'New API key', value: await createApiKey(deps, c.get('merchant').id) });
  });
  router.post('/settings/keys/:id/revoke', async (c) => {
    requireOwner(c, 'keys');
    if (!(await revokeKey(deps, c.get('merchant').id, c.req.param('id'))))
      throw new DomainError('not_found', { resource: 'api_key' });
    return c.redirect('/dashboard/settings', 303);
  });
  router.post('/settings/keys/:id/roll', async (c) => {
    requireOwner(c, 'keys');
    const overlap = Number(field(await c.req.parseBody(), 'overlap'));
    const chosen = ROLL_OVERLAPS.find((o) => o === overlap);
    if (chosen === undefined) throw new DomainError('validation.failed', { field: 'overlap' });
    const rolled = await rollKey(deps, c.get('merchant').id, c.req.param('id'), chosen);
    if (!rolled) throw new DomainError('not_found', { resource: 'api_key' });
    return page(c, { label: 'New API key (rolled)', value: rolled.key });
  });
  router.post('/settings/secrets/rotate', async (c) => {
    requireOwner(c, 'keys');
    // The same rule as the API: the previous secret keeps signing for the default overlap (24 h).
    const { secret } = await rotateSigningSecret({ database, clock }, c.get('merchant').id);
    return page(c, { label: 'New signing secret', value: secret });
  });
}

function registerWebhookRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const page = async (
    c: Context<Env>,
    extra: { error?: string; notice?: string; shownOnce?: Shown } = {},
    status = 200,
  ) => {
    const merchant = (await findMerchant(database.db, c.get('merchant').id))!;
    const endpoints = await listWebhookEndpoints(database.db, merchant.id);
    const view = { ...viewOf(c, clock), merchant };
    return html(c, <WebhooksPage view={view} endpoints={endpoints} {...extra} />, status);
  };
  /** The URL of a form, or a refusal to show: the same rule as the API's endpoints. */
  const urlOf = async (c: Context<Env>): Promise<{ url: string } | { error: string }> => {
    const url = field(await c.req.parseBody(), 'url').trim();
    const problem =
      url.length === 0
        ? 'a URL is required'
        : url.length > 2048
          ? 'too long'
          : webhookUrlProblem(url, deps.allowHttpWebhooks ?? false, deps.webhookNetworks ?? 'loopback');
    return problem ? { error: `This URL cannot receive webhooks: ${problem}.` } : { url };
  };
  router.get('/webhooks', (c) => page(c));
  router.post('/webhooks/endpoint', async (c) => {
    requireOwner(c, 'webhooks');
    const r = await urlOf(c);
    if ('error' in r) return page(c, { error: r.error }, 422);
    await setWebhookUrl(database.db, c.get('merchant').id, r.url);
    return c.redirect('/dashboard/webhooks', 303);
  });
  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const)
    router.post(`/settings/webhooks/${action}`, async (c) => {
      requireOwner(c, 'webhooks');
      await setWebhookEnabled(database.db, c.get('merchant').id, enabled);
      return c.redirect(enabled ? '/dashboard/settings' : '/dashboard/webhooks', 303);
    });
  router.post('/webhooks/test', async (c) => {
    requireOwner(c, 'webhooks');
    const sent = await sendTestWebhook({ database, clock, fetch: deps.merchantFetch ?? fetch }, c.get('merchant').id);
    if (sent.verdict === 'no_endpoint') return page(c, { error: 'Set an endpoint URL first.' }, 409);
    const notice =
      sent.verdict === 'sent'
        ? `Test event ${sent.eventId} sent to ${sent.url}: answered ${sent.status} in ${sent.latencyMs} ms.`
        : `Test event ${sent.eventId} to ${sent.url} failed: ${sent.error} after ${sent.latencyMs} ms.`;
    return page(c, { notice });
  });
  router.post('/webhooks', async (c) => {
    requireOwner(c, 'webhooks');
    const r = await urlOf(c);
    if ('error' in r) return page(c, { error: r.error }, 422);
    const row = await createWebhookEndpoint(
      { database, clock },
      { merchantId: c.get('merchant').id, url: r.url, enabledEvents: ['*'], description: null, metadata: {} },
    );
    return page(c, { shownOnce: { label: `Signing secret of ${row.id}`, value: row.secret } }, 201);
  });
  router.post('/webhooks/:id', async (c) => {
    requireOwner(c, 'webhooks');
    const r = await urlOf(c);
    if ('error' in r) return page(c, { error: r.error }, 422);
    if (!(await updateWebhookEndpoint({ database, clock }, c.get('merchant').id, c.req.param('id'), { url: r.url })))
      throw new DomainError('not_found', { resource: 'webhook_endpoint' });
    return c.redirect('/dashboard/webhooks', 303);
  });
  router.post('/webhooks/:id/:action{enable|disable}', async (c) => {
    requireOwner(c, 'webhooks');
    const disabled = c.req.param('action') === 'disable';
    if (!(await updateWebhookEndpoint({ database, clock }, c.get('merchant').id, c.req.param('id'), { disabled })))
      throw new DomainError('not_found', { resource: 'webhook_endpoint' });
    return c.redirect('/dashboard/webhooks', 303);
  });
}

const OFF = { enabled: false, seed: '', config: faultConfigSchema.parse({}) };

function registerFaultRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  const page = async (c: Context<Env>, error?: string, status = 200) => {
    const faults = (await readFaults(database.db, c.get('merchant').id)) ?? OFF;
    return html(c, <FaultsPage view={viewOf(c, clock)} faults={faults} error={error} />, status);
  };
  router.get('/faults', (c) => page(c));
  router.post('/faults', async (c) => {
    requireOwner(c, 'faults');
    const form = await c.req.parseBody();
    // A blank field takes the API's default (0, or 1 copy).
    const num = (name: string) => (field(form, name).trim() === '' ? undefined : Number(field(form, name)));
    const config = { webhooks: {} as Record<string, unknown>, api: {} as Record<string, unknown> };
    for (const name of ['drop', 'duplicate', 'duplicate_copies', 'reorder', 'reorder_window_ms', 'delay', 'delay_ms'])
      config.webhooks[name] = num(`webhooks.${name}`);
    for (const name of ['fail', 'slow', 'slow_ms']) config.api[name] = num(`api.${name}`);
    // A checkbox is sent as "on" or not at all; anything else is no form of ours.
    const box = (name: string) => {
      const v = field(form, name);
      return v === '' ? false : v === 'on' ? true : null;
    };
    config.webhooks.drop_permanently = box('drop_permanently');
    const parsed = faultBody.safeParse({ enabled: box('enabled'), seed: field(form, 'seed'), config });
    if (!parsed.success)
      return page(
        c,
        `Not saved: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
        422,
      );
    await setFaults(database.db, c.get('merchant').id, parsed.data, clock);
    return c.redirect('/dashboard/faults', 303);
  });
  router.post('/faults/clear', async (c) => {
    requireOwner(c, 'faults');
    await setFaults(database.db, c.get('merchant').id, { ...OFF, seed: 'cleared' }, clock);
    return c.redirect('/dashboard/faults', 303);
  });
}
