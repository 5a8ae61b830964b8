// The dashboard's journey page, registered on the dashboard's router after its login check: a payment
// of the logged-in merchant (another merchant's answers 404) as the gateway and the bank recorded it.
// While the payment is under way the page reloads itself every 2 s through an HTTP Refresh header:
// the dashboard's CSP allows no script.
import { DomainError } from '../../core/errors.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { JourneyPage } from '../pages/journey.page.tsx';
import { findSession } from '../storage/sessions.ts';
import type { Router } from './dashboard-kit.ts';
import { sessionJourney } from './journey.routes.ts';

const REFRESH_SECONDS = 2;

/** Adds GET /payments/:id/journey to the dashboard's router (behind its session check). */
export function registerJourneyPage(router: Router, gateway: GatewayDeps): void {
  router.get('/payments/:id/journey', async (c) => {
    const session = await findSession(gateway.database.db, c.req.param('id') ?? '', c.get('merchant').id);
    if (!session) throw new DomainError('not_found', { resource: 'payment_session' });
    const journey = await sessionJourney(gateway, session);
    if (!journey.settled) c.header('refresh', String(REFRESH_SECONDS));
    const page = (
      <JourneyPage
        session={session}
        steps={journey.steps}
        settled={journey.settled}
        bank={journey.bank}
        refreshSeconds={REFRESH_SECONDS}
      />
    );
    return c.html(`<!doctype html>${String(page)}`);
  });
}
