// The dashboard's payouts: the list, one payout with its payments (another merchant's id: 404), and
// for owners a payout of the available balance now (the same run as the daily one, this merchant only).
import { DomainError } from '../../core/errors.ts';
import { runPayouts } from '../commands/create-payouts.ts';
import { PayoutPage, PayoutsPage } from '../pages/dashboard-payouts.page.tsx';
import { findPayout, itemsOf, listPayouts } from '../storage/payouts.ts';
import { html, requireOwner, viewOf, type DashboardDeps, type Router } from './dashboard-kit.ts';

/** GET /payouts, /payouts/:id; POST /payouts/run. */
export function registerPayoutRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  router.get('/payouts', async (c) =>
    html(
      c,
      <PayoutsPage
        view={viewOf(c, clock)}
        payouts={await listPayouts(database.db, c.get('merchant').id, { limit: 100 })}
      />,
    ),
  );
  router.post('/payouts/run', async (c) => {
    requireOwner(c, 'payouts');
    if (!deps.gateway) throw new DomainError('upstream.unavailable', { upstream: 'bank' });
    const started = await runPayouts(deps.gateway, { merchantId: c.get('merchant').id });
    return html(
      c,
      <PayoutsPage
        view={viewOf(c, clock)}
        payouts={await listPayouts(database.db, c.get('merchant').id, { limit: 100 })}
        started={started.length}
      />,
    );
  });
  router.get('/payouts/:id', async (c) => {
    const p = await findPayout(database.db, c.get('merchant').id, c.req.param('id'));
    if (!p) throw new DomainError('not_found', { resource: 'payout' });
    return html(c, <PayoutPage view={viewOf(c, clock)} payout={p} items={await itemsOf(database.db, p.id)} />);
  });
}
