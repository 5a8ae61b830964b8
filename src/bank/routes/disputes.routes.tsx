// The bank app's disputes: the page, opening a dispute of a captured payment, withdrawing one. Behind
// the app's session guard (app.routes.tsx): a session, and its CSRF token on every POST.
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { parseCurrency, parseDecimal } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { createRouter } from '../../platform/http/app.ts';
import { withdrawDispute } from '../commands/decide-dispute.ts';
import { openDispute } from '../commands/open-dispute.ts';
import { DisputesPage } from '../pages/disputes.page.tsx';
import { findAuthorization } from '../storage/authorizations.ts';
import { cardholderDisputes, disputablePayments } from '../storage/dispute-queries.ts';
import { wantsJson, type BankEnv } from './bank-session.ts';

export interface DisputeRoutesDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly wake: () => void;
  readonly disputeWindowSeconds: number;
}

const NOTICES: Record<string, string> = {
  opened: 'Your dispute is open. You have been credited the amount, provisionally.',
  withdrawn: 'Your dispute is withdrawn.',
};

/** Adds /app/disputes (page and actions) to the app router, after its session guard. */
export function addDisputeRoutes(router: ReturnType<typeof createRouter<BankEnv>>, deps: DisputeRoutesDeps): void {
  const { database, clock } = deps;

  async function page(c: Context<BankEnv>, notice: string | undefined, status: 200 | 409 = 200) {
    const session = c.get('session');
    const [payments, disputes] = await Promise.all([
      disputablePayments(database.db, session.cardholderId),
      cardholderDisputes(database.db, session.cardholderId),
    ]);
    c.header('cache-control', 'no-store');
    return c.html(
      <DisputesPage
        name={session.name}
        csrf={session.csrfToken}
        payments={payments}
        disputes={disputes}
        notice={notice}
        nonce={c.get('nonce')}
      />,
      status,
    );
  }

  router.get('/app/disputes', (c) => page(c, NOTICES[c.req.query('done') ?? '']));

  router.post('/app/disputes', async (c) => {
    const session = c.get('session');
    const form = (await c.req.parseBody()) as Record<string, unknown>;
    const authorizationId = String(form.authorization_id ?? '');
    if (!/^bauth_[0-9A-Z]{26}$/.test(authorizationId)) throw new DomainError('not_found');
    const amountText = String(form.amount ?? '').trim();
    try {
      let amountMinor: bigint | undefined;
      if (amountText !== '') {
        const auth = await findAuthorization(database.db, authorizationId);
        if (!auth || auth.cardholderId !== session.cardholderId) throw new DomainError('not_found');
        amountMinor = parseDecimal(amountText, parseCurrency(auth.currency)).minor;
      }
      const d = await database.transaction((tx) =>
        openDispute(
          tx,
          { cardholderId: session.cardholderId, authorizationId, reason: String(form.reason ?? ''), amountMinor },
          { disputeWindowSeconds: deps.disputeWindowSeconds },
          clock,
        ),
      );
      deps.wake();
      return wantsJson(c) ? c.json({ id: d.id, status: d.status }, 201) : c.redirect('/app/disputes?done=opened', 303);
    } catch (err) {
      if (!wantsJson(c) && err instanceof DomainError && err.status === 409)
        return page(c, 'This payment cannot be disputed (already disputed, not captured, or more than was paid).', 409);
      throw err;
    }
  });

  router.post('/app/disputes/:id/withdraw', async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    if (!/^bdsp_[0-9A-Z]{26}$/.test(id)) throw new DomainError('not_found');
    const d = await database.transaction((tx) =>
      withdrawDispute(tx, { disputeId: id, cardholderId: session.cardholderId }, clock),
    );
    deps.wake();
    return wantsJson(c) ? c.json({ id: d.id, status: d.status }) : c.redirect('/app/disputes?done=withdrawn', 303);
  });
}
