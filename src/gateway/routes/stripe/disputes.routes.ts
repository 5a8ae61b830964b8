// /v1/disputes in Stripe's dialect: list, retrieve, update (text evidence, `submit` true by default as
// in Stripe) and close (= accept), over the same commands as the native API. Evidence fields that
// take a File id are refused (Stripe's Files API is not emulated): their content goes as text in
// `evidence[uncategorized_text]`. Only disputes of payments opened through the Stripe API are shown;
// anything else, or another merchant's, is Stripe's 404.
import { acceptDispute, submitDisputeEvidence } from '../../commands/respond-to-dispute.ts';
import type { DisputeRow } from '../../storage/dispute-tables.ts';
import { findDispute, listDisputes, stageStripeEvidence } from '../../storage/disputes.ts';
import { findSession } from '../../storage/sessions.ts';
import { stripeSession, type StripeDeps, type StripeRouter } from './context.ts';
import { STRIPE_FILE_EVIDENCE, STRIPE_TEXT_EVIDENCE, disputeObject } from './dispute-object.ts';
import { invalidParam, resourceMissing, StripeApiError } from './errors.ts';
import { allowOnly, bool, hash, str, type Params } from './form.ts';
import { cursorParam, listLimit } from './list-params.ts';

/** The text evidence fields given (merged over those staged before); 400 on file fields or unknown ones. */
function evidenceFields(params: Params, staged: Record<string, string>): Record<string, string> {
  const given = hash(params, 'evidence');
  const out: Record<string, string> = { ...staged };
  for (const key of Object.keys(given)) {
    const path = `evidence[${key}]`;
    if ((STRIPE_FILE_EVIDENCE as readonly string[]).includes(key))
      throw invalidParam(
        path,
        `${path} takes a File id from Stripe's Files API, which this gateway does not emulate. Send the document's content as text in evidence[uncategorized_text].`,
      );
    if (!(STRIPE_TEXT_EVIDENCE as readonly string[]).includes(key))
      throw invalidParam(path, `Received unknown parameter: ${path.slice(0, 100)}`, 'parameter_unknown');
    const value = str(given, key, path, 20_000) ?? '';
    if (value === '') delete out[key];
    else out[key] = value;
  }
  return out;
}

/** The evidence text forwarded to the bank: each field on its own lines, named. */
function evidenceText(fields: Record<string, string>): string {
  const text = STRIPE_TEXT_EVIDENCE.filter((k) => fields[k]).map((k) => `${k}:\n${fields[k]}`);
  return text.join('\n\n');
}

/** Registers the Dispute routes. */
export function disputeRoutes(router: StripeRouter, deps: StripeDeps): void {
  const { database, clock } = deps.gateway;

  async function stripeDispute(merchantId: string, id: string): Promise<{ d: DisputeRow; brand: string | null }> {
    const d = /^dp_[0-9A-Z]{26}$/.test(id) ? await findDispute(database.db, id, merchantId) : undefined;
    const s = d ? await findSession(database.db, d.sessionId, merchantId) : undefined;
    if (!d || s?.api !== 'stripe') throw resourceMissing('dispute', id);
    return { d, brand: s.cardBrand };
  }

  router.get('/v1/disputes', async (c) => {
    const { merchant, params } = c.env;
    allowOnly(params, ['limit', 'starting_after', 'ending_before', 'charge', 'payment_intent']);
    const limit = listLimit(params);
    const ch = str(params, 'charge', 'charge', 100);
    const pi = str(params, 'payment_intent', 'payment_intent', 100);
    const session = ch
      ? await stripeSession(database, merchant.id, ch, 'ch', 'charge')
      : pi
        ? await stripeSession(database, merchant.id, pi, 'pi', 'payment_intent')
        : undefined;
    const rows = await listDisputes(database.db, merchant.id, {
      limit: limit + 1,
      before: cursorParam(params, 'starting_after'),
      after: cursorParam(params, 'ending_before'),
      sessionId: session?.id,
      api: 'stripe',
    });
    const page =
      rows.length > limit ? (cursorParam(params, 'ending_before') ? rows.slice(1) : rows.slice(0, limit)) : rows;
    const now = clock.now();
    const data = [];
    for (const d of page) {
      const s = await findSession(database.db, d.sessionId, merchant.id);
      data.push(disputeObject(d, now, s?.cardBrand ?? null));
    }
    return c.json({ object: 'list', data, has_more: rows.length > limit, url: '/v1/disputes' });
  });

  router.get('/v1/disputes/:id', async (c) => {
    allowOnly(c.env.params, []);
    const { d, brand } = await stripeDispute(c.env.merchant.id, c.req.param('id'));
    return c.json(disputeObject(d, clock.now(), brand), 200);
  });

  router.post('/v1/disputes/:id', async (c) => {
    const { merchant, params } = c.env;
    allowOnly(params, ['evidence', 'submit']);
    const { d, brand } = await stripeDispute(merchant.id, c.req.param('id'));
    if (d.status !== 'needs_response')
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        message: `This dispute is already ${d.status === 'under_review' ? 'under review' : 'closed'}; its evidence can no longer be changed.`,
      });
    const fields = evidenceFields(params, d.stripeEvidence ?? {});
    const submit = bool(params, 'submit') ?? true;
    if (!submit) {
      await stageStripeEvidence(database.db, d.id, fields, clock.now());
      const staged = await findDispute(database.db, d.id, merchant.id);
      return c.json(disputeObject(staged!, clock.now(), brand), 200);
    }
    const updated = await submitDisputeEvidence(deps.gateway, merchant.id, d.id, {
      evidence: { text: evidenceText(fields), files: [] },
      stripeEvidence: fields,
    });
    deps.wake();
    return c.json(disputeObject(updated, clock.now(), brand), 200);
  });

  router.post('/v1/disputes/:id/close', async (c) => {
    const { merchant, params } = c.env;
    allowOnly(params, []);
    const { d, brand } = await stripeDispute(merchant.id, c.req.param('id'));
    if (d.status !== 'needs_response')
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        message: 'This dispute is already closed or under review; it can no longer be accepted.',
      });
    const closed = await acceptDispute(deps.gateway, merchant.id, d.id);
    deps.wake();
    return c.json(disputeObject(closed, clock.now(), brand), 200);
  });
}
