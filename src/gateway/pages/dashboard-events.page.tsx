// The merchant's event log: every event, newest first, filtered by type, with its deliveries and a
// re-send for each.
import type { eventLog } from '../storage/dashboard-queries.ts';
import { Badge, Button, Layout, When, type DashView } from './dashboard-layout.tsx';

/** The global event log. */
export function EventsPage(props: {
  view: DashView;
  types: string[];
  type: string | null;
  log: Awaited<ReturnType<typeof eventLog>>;
  before: string | null;
}) {
  const { view, log } = props;
  const last = log.rows.at(-1);
  const older = new URLSearchParams({
    ...(props.type ? { type: props.type } : {}),
    ...(last ? { before: String(last.cursor) } : {}),
  });
  return (
    <Layout title="Events" view={view} section="events">
      <form class="filters" method="get" action="/dashboard/events">
        <div>
          <label for="type">Type</label>
          <select id="type" name="type">
            <option value="">all types</option>
            {props.types.map((t) => (
              <option value={t} selected={props.type === t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <table>
        <tr>
          <th>Time</th>
          <th>Type</th>
          <th>Event</th>
          <th>Payment</th>
          <th>Deliveries</th>
        </tr>
        {log.rows.map((e) => (
          <tr>
            <td>
              <When at={e.createdAt} now={view.now} seconds />
            </td>
            <td>{e.type}</td>
            <td class="mono">{e.id}</td>
            <td>
              <a class="mono" href={`/dashboard/payments/${e.sessionId}`}>
                {e.sessionId}
              </a>
            </td>
            <td>
              {e.deliveries.length === 0 ? <span class="muted">no endpoint</span> : null}
              {e.deliveries.map((d) => (
                <div>
                  <Badge status={d.status} /> {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                  {d.lastStatusCode ? ` · last ${d.lastStatusCode}` : ''}{' '}
                  <Button
                    csrf={view.csrf}
                    action={`/dashboard/deliveries/${d.id}/resend`}
                    label="Re-send"
                    fields={{ back: 'events' }}
                  />
                </div>
              ))}
            </td>
          </tr>
        ))}
      </table>
      {log.rows.length === 0 ? <p class="muted">No event.</p> : null}
      <div class="pager">
        {props.before ? (
          <a href={`/dashboard/events${props.type ? `?type=${encodeURIComponent(props.type)}` : ''}`}>« Newest</a>
        ) : null}
        {log.more ? <a href={`/dashboard/events?${older.toString()}`}>Older »</a> : null}
      </div>
    </Layout>
  );
}
