// The hosted payment page and its two JSON endpoints (status, authorise). The session id, 80 random
// bits, is the capability: whoever the shop sent here may see the session's public status and pay.
import { DomainError } from '../../core/errors.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { setAnswerHeader } from '../../platform/http/answer-header.ts';
import { contentSecurityPolicy, securityHeaders } from '../../platform/http/security-headers.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import { submitCard } from '../commands/submit-card.ts';
import { cardInputSchema } from '../domain/card.ts';
import { isFinal, PAID_STATES } from '../domain/session.machine.ts';
import { PayPage } from '../pages/pay.page.tsx';
import { PAY_SCRIPT, PAY_STYLES } from '../pages/pay-client.ts';
import { findSession, findSessionWithMerchant } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';

// The strict policy as is: the page's only script and stylesheet are the files below. The session id in
// the URL is a capability, so no Referer carries it anywhere.
const secure = securityHeaders({ csp: contentSecurityPolicy(), referrerPolicy: 'no-referrer' });

/**
 * Where the page sends the payer back, once there is nothing more to do here. A Stripe Checkout
 * Session sends a completed payment (authorised, or paid) to its success_url and one that ended
 * unpaid to its cancel_url, as Stripe's hosted page does; a native session, its return_url once final.
 */
function payerReturnUrl(s: SessionRow): string | null {
  if (s.api !== 'stripe') return isFinal(s.status) ? s.returnUrl : null;
  if (s.status === 'authorized' || PAID_STATES.includes(s.status)) return s.returnUrl;
  return isFinal(s.status) ? s.cancelUrl : null;
}

/** What the page (and anyone with the link) may see of a session. */
export function publicStatus(s: SessionRow) {
  return {
    id: s.id,
    status: s.status,
    decline_reason: s.declineReason,
    last_error: s.lastError,
    expires_at: s.expiresAt.toISOString(),
    // Set while the bank waits for the cardholder in the bank app; null while the bank decides by itself.
    approval_expires_at:
      s.status === 'requires_approval' && s.approvalExpiresAt ? s.approvalExpiresAt.toISOString() : null,
    return_url: payerReturnUrl(s),
    card: s.cardLast4 ? { last4: s.cardLast4, brand: s.cardBrand } : null,
  };
}

/** The /pay router. */
export function payRoutes(deps: { gateway: GatewayDeps; wake?: () => void }) {
  const { database } = deps.gateway;
  const router = createRouter<AppEnv>();
  router.use('*', secure);
  router.use('*', async (c, next) => {
    await next();
    setAnswerHeader(c, 'cache-control', 'no-store');
  });
  router.get('/assets/pay.js', (c) => c.body(PAY_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  router.get('/assets/pay.css', (c) => c.body(PAY_STYLES, 200, { 'content-type': 'text/css; charset=utf-8' }));

  // Ids longer than any we issue are not looked up.
  const found = <T,>(row: T | undefined): T => {
    if (!row) throw new DomainError('not_found', { resource: 'payment_session' });
    return row;
  };
  const load = async (id: string): Promise<SessionRow> =>
    found(id.length <= 64 ? await findSession(database.db, id) : undefined);

  router.get('/:id', async (c) => {
    const id = c.req.param('id');
    const { session, merchant } = found(id.length <= 64 ? await findSessionWithMerchant(database.db, id) : undefined);
    return c.html('<!doctype html>' + String(<PayPage session={session} merchant={merchant} />));
  });
  router.get('/:id/status', async (c) => c.json(publicStatus(await load(c.req.param('id')))));
  router.post('/:id/authorize', async (c) => {
    // JSON only: a cross-site HTML form cannot send it without a CORS preflight we never grant.
    if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
      throw new DomainError('request.malformed', { reason: 'json_required' });
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      throw new DomainError('request.malformed', { reason: 'body_not_json' });
    }
    const card = cardInputSchema.safeParse(json);
    if (!card.success) throw new DomainError('card.invalid', { fields: { number: 'Enter the card details.' } });
    const s = await submitCard(deps.gateway, c.req.param('id'), card.data);
    deps.wake?.();
    return c.json(publicStatus(s));
  });
  return router;
}
