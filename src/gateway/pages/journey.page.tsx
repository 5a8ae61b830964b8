// The merchant dashboard's journey page: the gateway's and the bank's part of one payment as a sequence
// diagram drawn on the server (inline SVG, presentation attributes only: the dashboard's CSP allows no
// script and no inline style), with the same steps as a table beneath.
import { raw } from 'hono/html';
import { orderJourney, renderJourneySvg, type JourneyStep } from '../../core/journey.ts';
import type { SessionRow } from '../storage/tables.ts';

/** GET /dashboard/payments/:id/journey. */
export function JourneyPage(props: {
  session: SessionRow;
  steps: readonly JourneyStep[];
  settled: boolean;
  bank: 'included' | 'unavailable';
  refreshSeconds: number;
}) {
  const s = props.session;
  const ordered = orderJourney(props.steps);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Journey of {s.id} · countersign gateway</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
      </head>
      <body>
        <nav>
          <a href="/dashboard">Payments</a> <a href={`/dashboard/payments/${s.id}`}>Back to the payment</a>
        </nav>
        <h1>Journey of payment {s.id}</h1>
        <p>
          Status <strong data-testid="journey-status">{s.status}</strong> ·{' '}
          {props.settled
            ? 'settled: nothing more will happen by itself.'
            : `under way: this page reloads every ${props.refreshSeconds} s.`}
        </p>
        <p class="notice">
          The gateway's steps and the bank's come from each party's own records, read now; each lane's times are its own
          party's clock, so a few milliseconds' disagreement between lanes is expected. The shop's part is in the shop's
          staff console.
          {props.bank === 'unavailable' ? " The bank's records could not be read just now." : ''}
        </p>
        <figure data-testid="journey-diagram">{raw(renderJourneySvg(ordered, { title: `Journey of ${s.id}` }))}</figure>
        <h2>Steps</h2>
        <table>
          <tr>
            <th>When</th>
            <th>From</th>
            <th>To</th>
            <th>What</th>
            <th>Verdict</th>
            <th>Record</th>
          </tr>
          {ordered.map((step) => (
            <tr>
              <td>{step.at}</td>
              <td>{step.from}</td>
              <td>{step.to}</td>
              <td>{step.label}</td>
              <td>{step.verdict ?? ''}</td>
              <td>
                {step.party}
                {step.ref ? ` · ${step.ref}` : ''}
              </td>
            </tr>
          ))}
        </table>
      </body>
    </html>
  );
}
