// The dashboard's payments (search, filters, a payment's timeline), the event log, and re-sending a
// webhook delivery from either.
import { DomainError } from '../../core/errors.ts';
import { resendDelivery } from '../commands/resend-delivery.ts';
import { encodeCursor, parsePaymentQuery } from '../domain/payment-search.ts';
import { EventsPage } from '../pages/dashboard-events.page.tsx';
import { PaymentPage, PaymentsPage } from '../pages/dashboard.page.tsx';
import { merchantBalances } from '../domain/ledger.balance.ts';
import { paymentDetail } from '../storage/dashboard.ts';
import { merchantLedgerAccounts } from '../storage/ledger.ts';
import { eventLog, eventTypes, searchPayments } from '../storage/dashboard-queries.ts';
import { html, viewOf, type DashboardDeps, type Router } from './dashboard-kit.ts';

const PARAMS = ['q', 'status', 'from', 'to'] as const;

/** GET /, /payments/:id, /events; POST /deliveries/:id/resend. */
export function registerPaymentRoutes(router: Router, deps: DashboardDeps): void {
  const { database, clock } = deps;
  router.get('/', async (c) => {
    const raw: Record<string, string> = {};
    for (const p of PARAMS) {
      const v = c.req.query(p);
      if (typeof v === 'string' && v !== '') raw[p] = v.slice(0, 200);
    }
    const q = parsePaymentQuery({ ...raw, after: c.req.query('after') });
    const merchantId = c.get('merchant').id;
    const { rows, more } = await searchPayments(database.db, merchantId, q);
    const next = more && rows.length ? encodeCursor(rows.at(-1)!) : null;
    // The Balance card heads the first page (not the older pages of the list).
    const balances = q.after ? undefined : merchantBalances(await merchantLedgerAccounts(database.db, merchantId));
    return html(
      c,
      <PaymentsPage view={viewOf(c, clock)} q={q} raw={raw} payments={rows} next={next} balances={balances} />,
    );
  });
  router.get('/payments/:id', async (c) => {
    const detail = await paymentDetail(database.db, c.get('merchant').id, c.req.param('id'));
    if (!detail) throw new DomainError('not_found', { resource: 'payment_session' });
    return html(c, <PaymentPage view={viewOf(c, clock)} detail={detail} />);
  });
  router.get('/events', async (c) => {
    const merchantId = c.get('merchant').id;
    const types = await eventTypes(database.db, merchantId);
    const type = types.find((t) => t === c.req.query('type')) ?? null;
    const beforeRaw = c.req.query('before') ?? '';
    const before = /^\d{1,18}$/.test(beforeRaw) ? BigInt(beforeRaw) : null;
    const log = await eventLog(database.db, merchantId, { type, before });
    return html(
      c,
      <EventsPage
        view={viewOf(c, clock)}
        types={types}
        type={type}
        log={log}
        before={before === null ? null : beforeRaw}
      />,
    );
  });
  router.post('/deliveries/:id/resend', async (c) => {
    if (!(await resendDelivery({ database, clock }, c.req.param('id'), c.get('merchant').id)))
      throw new DomainError('not_found', { resource: 'webhook_delivery' });
    deps.wake?.();
    const back = String((await c.req.parseBody()).back ?? '');
    const to =
      back === 'events'
        ? '/dashboard/events'
        : /^ps_[0-9A-Z]{26}$/.test(back)
          ? `/dashboard/payments/${back}`
          : '/dashboard';
    return c.redirect(to, 303);
  });
}
