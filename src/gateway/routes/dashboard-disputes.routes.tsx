// The dashboard's disputes: the list and one dispute, both bound to the session's merchant (another
// merchant's dispute is not found).
import { DomainError } from '../../core/errors.ts';
import { DisputePage, DisputesPage } from '../pages/dashboard-disputes.page.tsx';
import { findDispute, listDisputes } from '../storage/disputes.ts';
import { sessionTransfers } from '../storage/ledger.ts';
import { html, viewOf, type DashboardDeps, type Router } from './dashboard-kit.ts';

/** GET /disputes, /disputes/:id. */
export function registerDisputeRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  router.get('/disputes', async (c) => {
    const disputes = await listDisputes(database.db, c.get('merchant').id, { limit: 100 });
    return html(c, <DisputesPage view={viewOf(c, clock)} disputes={disputes} />);
  });
  router.get('/disputes/:id', async (c) => {
    const d = await findDispute(database.db, c.req.param('id'), c.get('merchant').id);
    if (!d) throw new DomainError('not_found', { resource: 'dispute' });
    const transfers = (await sessionTransfers(database.db, d.sessionId)).filter((t) => t.id.endsWith(`_${d.id}`));
    return html(c, <DisputePage view={viewOf(c, clock)} dispute={d} transfers={transfers} />);
  });
}
