// The dashboard's developer pages: API keys (create, revoke, roll; prefix and last 4 only) and
// signing secrets (rotate), webhook endpoints. Owners see the forms; members read.
import type { ApiKeyView } from '../storage/api-keys.ts';
import type { credentials } from '../storage/dashboard.ts';
import type { WebhookEndpointRow } from '../storage/stripe-tables.ts';
import { Badge, Button, Csrf, Layout, ShownOnce, When, type DashView } from './dashboard-layout.tsx';

/** Whether the viewer may change things (an owner, or an API-key login). */
export const owner = (view: DashView) => view.user === null || view.user.role === 'owner';

function keyStatus(k: ApiKeyView, now: Date): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && k.expiresAt <= now) return 'expired';
  return k.expiresAt ? 'expiring' : 'active';
}

function KeyRow(props: { k: ApiKeyView; view: DashView }) {
  const { k, view } = props;
  const status = keyStatus(k, view.now);
  const live = status === 'active' || status === 'expiring';
  return (
    <tr>
      <td>
        <span class="mono">
          {k.prefix}…{k.last4 ?? '????'}
        </span>
        {k.api === 'stripe' ? <div class="muted">Stripe dialect</div> : null}
      </td>
      <td>
        <When at={k.createdAt} now={view.now} />
      </td>
      <td>
        <Badge status={status === 'active' ? 'active' : status} />
        {k.expiresAt && status === 'expiring' ? (
          <div class="muted">
            stops <When at={k.expiresAt} now={view.now} />
          </div>
        ) : null}
      </td>
      <td>
        {live && owner(view) ? (
          <div>
            <form class="inline" method="post" action={`/dashboard/settings/keys/${k.id}/roll`}>
              <Csrf csrf={view.csrf} />
              <select name="overlap" aria-label="old key stops">
                <option value="0">old key stops now</option>
                <option value="3600">old key works 1 h more</option>
                <option value="86400" selected>
                  old key works 24 h more
                </option>
              </select>{' '}
              <button type="submit">Roll</button>
            </form>{' '}
            <Button csrf={view.csrf} action={`/dashboard/settings/keys/${k.id}/revoke`} label="Revoke" tone="danger" />
          </div>
        ) : null}
      </td>
    </tr>
  );
}

/** API keys and signing secrets. */
export function SettingsPage(props: {
  view: DashView;
  keys: ApiKeyView[];
  secrets: Awaited<ReturnType<typeof credentials>>['secrets'];
  shownOnce?: { label: string; value: string } | undefined;
}) {
  const { view } = props;
  return (
    <Layout title="API keys" view={view} section="keys">
      {props.shownOnce ? <ShownOnce label={props.shownOnce.label} value={props.shownOnce.value} /> : null}
      <p class="muted">
        Secret keys authenticate your server on <code>/v1</code>. Only a prefix and the last 4 characters are kept in
        view; a new key is shown once.
      </p>
      <table>
        <tr>
          <th>Key</th>
          <th>Created</th>
          <th>Status</th>
          <th></th>
        </tr>
        {props.keys.map((k) => (
          <KeyRow k={k} view={view} />
        ))}
      </table>
      {owner(view) ? (
        <p>
          <Button csrf={view.csrf} action="/dashboard/settings/keys" label="Create an API key" tone="primary" />
        </p>
      ) : null}
      <h2>Webhook signing secrets</h2>
      <p class="muted">
        Every delivery is signed with each active secret (at most two: the newest and the one before). Rotating adds a
        new secret; the one before keeps signing for 24 hours beside it, so that your endpoint can learn the new one
        before the old one stops.
      </p>
      <table>
        <tr>
          <th>Secret</th>
          <th>Created</th>
          <th>Status</th>
        </tr>
        {props.secrets.map((s) => (
          <tr>
            <td class="mono">{s.hint}</td>
            <td>
              <When at={s.createdAt} now={view.now} />
            </td>
            <td>
              {s.retiredAt ? (
                <Badge status="retired" />
              ) : s.expiresAt ? (
                <span>
                  <Badge status="expiring" /> <When at={s.expiresAt} now={view.now} />
                </span>
              ) : (
                <Badge status="active" />
              )}
            </td>
          </tr>
        ))}
      </table>
      {owner(view) ? (
        <p>
          <Button csrf={view.csrf} action="/dashboard/settings/secrets/rotate" label="Rotate the signing secret" />
        </p>
      ) : null}
    </Layout>
  );
}

/** The native endpoint (one URL) and the Stripe-format endpoints. */
export function WebhooksPage(props: {
  view: DashView;
  endpoints: WebhookEndpointRow[];
  error?: string | undefined;
  notice?: string | undefined;
  shownOnce?: { label: string; value: string } | undefined;
}) {
  const { view } = props;
  const m = view.merchant;
  const can = owner(view);
  return (
    <Layout title="Webhooks" view={view} section="webhooks">
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.shownOnce ? <ShownOnce label={props.shownOnce.label} value={props.shownOnce.value} /> : null}
      <h2>Your endpoint</h2>
      <div class="card">
        <p>
          {m.webhookUrl ? <code>{m.webhookUrl}</code> : <span class="muted">No endpoint yet.</span>}{' '}
          <Badge status={m.webhookEnabled ? 'enabled' : 'disabled'} /> · acknowledgement window {m.ackWindowSeconds} s
        </p>
        {can ? (
          <div>
            <form class="filters" method="post" action="/dashboard/webhooks/endpoint">
              <Csrf csrf={view.csrf} />
              <div>
                <label for="url">Endpoint URL</label>
                <input id="url" name="url" type="url" size={50} value={m.webhookUrl ?? ''} />
              </div>
              <button type="submit" class="primary">
                Save URL
              </button>
            </form>
            {m.webhookEnabled ? (
              <Button
                csrf={view.csrf}
                action="/dashboard/settings/webhooks/disable"
                label="Disable deliveries"
                tone="danger"
              />
            ) : (
              <Button csrf={view.csrf} action="/dashboard/settings/webhooks/enable" label="Re-enable deliveries" />
            )}{' '}
            {m.webhookUrl ? (
              <Button csrf={view.csrf} action="/dashboard/webhooks/test" label="Send a test event" />
            ) : null}
          </div>
        ) : null}
      </div>
      <h2>Stripe-format endpoints</h2>
      <p class="muted">
        For integrations using a Stripe-dialect key: each endpoint gets Stripe-format events, signed with its own
        secret.
      </p>
      <table>
        <tr>
          <th>Endpoint</th>
          <th>URL</th>
          <th>Status</th>
          <th>Created</th>
          <th></th>
        </tr>
        {props.endpoints.map((e) => (
          <tr>
            <td class="mono">{e.id}</td>
            <td>
              {can ? (
                <form class="inline" method="post" action={`/dashboard/webhooks/${e.id}`}>
                  <Csrf csrf={view.csrf} />
                  <input name="url" type="url" size={40} value={e.url} aria-label="URL" />{' '}
                  <button type="submit">Save</button>
                </form>
              ) : (
                <code>{e.url}</code>
              )}
            </td>
            <td>
              <Badge status={e.status} />
            </td>
            <td>
              <When at={e.createdAt} now={view.now} />
            </td>
            <td>
              {can ? (
                <Button
                  csrf={view.csrf}
                  action={`/dashboard/webhooks/${e.id}/${e.status === 'enabled' ? 'disable' : 'enable'}`}
                  label={e.status === 'enabled' ? 'Disable' : 'Enable'}
                />
              ) : null}
            </td>
          </tr>
        ))}
      </table>
      {can ? (
        <form class="filters" method="post" action="/dashboard/webhooks">
          <Csrf csrf={view.csrf} />
          <div>
            <label for="new-url">Add an endpoint</label>
            <input id="new-url" name="url" type="url" size={50} placeholder="https://example.com/webhooks/stripe" />
          </div>
          <button type="submit">Add endpoint</button>
        </form>
      ) : null}
    </Layout>
  );
}
