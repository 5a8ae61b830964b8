// The bank app's pages and actions: the app page, its activity fragment, and answering approval
// requests; login and logout are login.routes.tsx's, the session guard bank-session.ts's.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter } from '../../platform/http/app.ts';
import { securityHeaders } from '../../platform/http/security-headers.ts';
import { readRoom } from '../../platform/realtime/index.ts';
import { answerApproval, type ApprovalAnswer } from '../commands/answer-approval.ts';
import { AppPage, Activity, type ActivityData } from '../pages/app.page.tsx';
import { bankContentSecurityPolicy } from '../pages/layout.tsx';
import {
  cardholderAccounts,
  cardholderCards,
  openApprovals,
  openHolds,
  recentMovements,
} from '../storage/app-queries.ts';
import { cardholderRoom } from '../storage/bank-settings.ts';
import { requireSession, wantsJson, type BankEnv } from './bank-session.ts';
import { addDisputeRoutes } from './disputes.routes.tsx';
import { addLoginRoutes, addLogoutRoute } from './login.routes.tsx';

export interface AppRoutesDeps {
  readonly database: Database;
  readonly clock: Clock;
  /** Secure cookies when the bank is served over https. */
  readonly secureCookies: boolean;
  /** Called after a commit that enqueued jobs (the callback to the gateway), so it goes out at once. */
  readonly wake: () => void;
  /** How long a merchant has to answer a dispute (BANK_DISPUTE_WINDOW_SECONDS). */
  readonly disputeWindowSeconds: number;
}

/** The bank app router, mounted at the root. */
export function appRoutes(deps: AppRoutesDeps) {
  const { database, clock } = deps;
  const router = createRouter<BankEnv>();

  // Every page gets a fresh nonce for its inline style and script, and the security headers.
  // Only on the app's own paths, so that /healthz, /readyz and /metrics keep their route labels.
  const headers = securityHeaders<BankEnv>({ csp: (c) => bankContentSecurityPolicy(c.get('nonce')) });
  const securePage = async (c: Context<BankEnv>, next: () => Promise<void>) => {
    c.set('nonce', randomBytes(16).toString('base64'));
    await headers(c, next);
  };
  for (const path of ['/login', '/logout', '/app/*']) router.use(path, securePage);

  addLoginRoutes(router, deps);

  // Everything below needs a session: pages redirect to /login, JSON callers get 401.
  // In Hono '/app/*' matches '/app' too.
  const guard = requireSession(deps);
  router.use('/app/*', guard);
  router.use('/logout', guard);
  addLogoutRoute(router, deps);
  addDisputeRoutes(router, deps);

  async function activity(cardholderId: string): Promise<ActivityData> {
    const [accounts, holds, movements] = await Promise.all([
      cardholderAccounts(database.db, cardholderId),
      openHolds(database.db, cardholderId),
      recentMovements(database.db, cardholderId),
    ]);
    return { accounts, holds, movements };
  }

  router.get('/app', async (c) => {
    const session = c.get('session');
    const now = clock.now();
    // Cursor first, state second: whatever commits in between is replayed when the page joins.
    const { cursor } = await readRoom(database.db, cardholderRoom(session.cardholderId), undefined);
    const approvals = await openApprovals(database.db, session.cardholderId, now);
    c.header('cache-control', 'no-store');
    return c.html(
      <AppPage
        name={session.name}
        cardholderId={session.cardholderId}
        csrf={session.csrfToken}
        cursor={cursor}
        now={now}
        approvals={approvals}
        activity={await activity(session.cardholderId)}
        cards={await cardholderCards(database.db, session.cardholderId)}
        nonce={c.get('nonce')}
      />,
    );
  });

  router.get('/app/activity', async (c) => {
    c.header('cache-control', 'no-store');
    return c.html(<Activity data={await activity(c.get('session').cardholderId)} />);
  });

  router.post('/app/approvals/:id/:answer{approve|decline}', async (c) => {
    const session = c.get('session');
    const approvalId = c.req.param('id');
    if (!/^apr_[0-9A-Z]{26}$/.test(approvalId)) throw new DomainError('not_found');
    const answer = c.req.param('answer') as ApprovalAnswer;
    const json = wantsJson(c);
    try {
      const result = await database.transaction((tx) =>
        answerApproval(tx, { approvalId, cardholderId: session.cardholderId, answer }, clock),
      );
      deps.wake();
      return json ? c.json({ id: approvalId, status: result.status }) : c.redirect('/app', 303);
    } catch (err) {
      if (!json && err instanceof DomainError && err.status === 409) return c.redirect('/app', 303);
      throw err;
    }
  });

  return router;
}
