// The staff console's journey page: an order's payments as a sequence diagram across the browser, the
// shop, the gateway, the bank and the bank app, drawn on the server (inline SVG, presentation
// attributes only), with the same steps as a table beneath for reading and copying.
import { raw } from 'hono/html';
import type { FC } from 'hono/jsx';
import { orderJourney, renderJourneySvg, type JourneyStep } from '../../core/journey.ts';
import { Layout, Notice, type PageCtx } from './layout.tsx';

/** Everything the journey page shows. */
export interface StaffJourneyView {
  readonly ctx: PageCtx;
  readonly orderId: string;
  readonly steps: readonly JourneyStep[];
  readonly settled: boolean;
  readonly refreshSeconds: number;
  /** Why the gateway's part is missing or partial, when it is. */
  readonly gatewayNote?: string | undefined;
}

/** GET /staff/orders/:id/journey. */
export const StaffJourneyPage: FC<StaffJourneyView> = (p) => {
  const ordered = orderJourney(p.steps);
  return (
    <Layout ctx={p.ctx} title={`Journey of order ${p.orderId}`}>
      <h1>Journey of order {p.orderId}</h1>
      <p>
        <a href={`/staff/orders/${p.orderId}`}>Back to the order</a> ·{' '}
        <span data-testid="journey-live">
          {p.settled
            ? 'settled: nothing more will happen by itself.'
            : `under way: this page reloads every ${p.refreshSeconds} s.`}
        </span>
      </p>
      <p>
        Each step comes from one party's own records, read now: the shop's from its database, the gateway's and the
        bank's from the gateway's journey API. Each lane's times are its own party's clock, so lanes can disagree by a
        few milliseconds; the last column says whose record a step is.
      </p>
      {p.gatewayNote ? <Notice>{p.gatewayNote}</Notice> : null}
      <div class="table-wrap" data-testid="journey-diagram">
        {raw(renderJourneySvg(ordered, { title: `Journey of order ${p.orderId}` }))}
      </div>
      <h2>Steps</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>From</th>
              <th>To</th>
              <th>What</th>
              <th>Verdict</th>
              <th>Record</th>
            </tr>
          </thead>
          <tbody>
            {ordered.map((s) => (
              <tr data-testid="journey-step">
                <td>{s.at}</td>
                <td>{s.from}</td>
                <td>{s.to}</td>
                <td>{s.label}</td>
                <td>{s.verdict ?? ''}</td>
                <td>
                  {s.party}
                  {s.ref ? ` · ${s.ref}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
};
