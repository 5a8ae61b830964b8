// Fault injection as a screen: the merchant's settings and a form to set or clear them, with the
// rules of PUT /v1/admin/fault_injection. Owners see the form's buttons; members read.
import type { FaultConfig } from '../domain/faults.ts';
import { owner } from './dashboard-developers.page.tsx';
import { Badge, Button, Csrf, Layout, type DashView } from './dashboard-layout.tsx';

const RATES: [keyof FaultConfig['webhooks'] | keyof FaultConfig['api'], 'webhooks' | 'api', string][] = [
  ['drop', 'webhooks', 'Drop deliveries (share 0–1)'],
  ['duplicate', 'webhooks', 'Duplicate deliveries (share 0–1)'],
  ['duplicate_copies', 'webhooks', 'Extra copies of a duplicate (1–9)'],
  ['reorder', 'webhooks', 'Reorder deliveries (share 0–1)'],
  ['reorder_window_ms', 'webhooks', 'Reorder window (ms)'],
  ['delay', 'webhooks', 'Delay deliveries (share 0–1)'],
  ['delay_ms', 'webhooks', 'Delay (ms)'],
  ['fail', 'api', 'Fail /v1 requests with 502 (share 0–1)'],
  ['slow', 'api', 'Slow /v1 requests (share 0–1)'],
  ['slow_ms', 'api', 'Slow by (ms)'],
];

/** Fault injection: the settings and a form to set or clear them (the rules of PUT /v1/admin/fault_injection). */
export function FaultsPage(props: {
  view: DashView;
  faults: { enabled: boolean; seed: string; config: FaultConfig };
  error?: string | undefined;
}) {
  const { view, faults } = props;
  const can = owner(view);
  const value = (group: 'webhooks' | 'api', name: string) =>
    String((faults.config[group] as Record<string, number | boolean>)[name] ?? 0);
  return (
    <Layout title="Fault injection" view={view} section="faults">
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p>
        <Badge status={faults.enabled ? 'enabled' : 'disabled'} />{' '}
        <span class="muted">
          Injects failures into your own webhooks and API calls, drawn from the seed: the same seed and the same
          operations give the same faults. For testing your integration; off by default.
        </span>
      </p>
      <form method="post" action="/dashboard/faults" class="card">
        <Csrf csrf={view.csrf} />
        <div class="grid2">
          <div>
            <label for="enabled">
              <input id="enabled" type="checkbox" name="enabled" value="on" checked={faults.enabled} /> Enabled
            </label>
            <label for="seed">Seed</label>
            <input id="seed" name="seed" value={faults.seed} />
            <label for="drop_permanently">
              <input
                id="drop_permanently"
                type="checkbox"
                name="drop_permanently"
                value="on"
                checked={faults.config.webhooks.drop_permanently}
              />{' '}
              A dropped delivery is given up at once
            </label>
          </div>
          <div>
            {RATES.map(([name, group, label]) => (
              <div>
                <label for={`${group}.${name}`}>{label}</label>
                <input
                  id={`${group}.${name}`}
                  name={`${group}.${name}`}
                  value={value(group, name)}
                  inputmode="decimal"
                />
              </div>
            ))}
          </div>
        </div>
        {can ? (
          <p>
            <button type="submit" class="primary">
              Save
            </button>
          </p>
        ) : null}
      </form>
      {can ? <Button csrf={view.csrf} action="/dashboard/faults/clear" label="Clear all faults" tone="danger" /> : null}
    </Layout>
  );
}
