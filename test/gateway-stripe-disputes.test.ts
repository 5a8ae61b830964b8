// Disputes through the gateway's Stripe dialect, driven by the official `stripe` SDK against the real
// gateway and bank: a payment opened as a Checkout Session and disputed in the bank app becomes a
// Stripe Dispute (fields as Stripe's own example object), announced as `charge.dispute.created` to the
// merchant's Stripe endpoint (verified with stripe.webhooks.constructEvent); disputes.list / retrieve /
// update (staged with submit=false, then submitted) / close work; file evidence is refused in Stripe's
// error format; another merchant gets Stripe's 404; the books stay clean.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type Stripe from 'stripe';
import { verifyLedger } from '../src/gateway/storage/ledger-verify.ts';
import { eventually } from '../src/gateway/testing.ts';
import { startDisputeSystem, type DisputeSystem } from './support/disputes-system.ts';
import { paidCheckout } from './support/stripe-events-support.ts';

const FIXTURE = (
  JSON.parse(readFileSync('/work/shared/stripe/fixtures3.json', 'utf8')) as {
    resources: { dispute: Record<string, unknown> };
  }
).resources.dispute;

/** Every field of Stripe's example, with the same JSON type (or null where we do not model it), and no other. */
function sameShape(ours: unknown, theirs: unknown, path: string): string[] {
  if (theirs === null || ours === null) return [];
  if (Array.isArray(theirs)) return Array.isArray(ours) ? [] : [`${path}: array expected`];
  if (typeof theirs !== 'object') return typeof ours === typeof theirs ? [] : [`${path}: ${typeof theirs} expected`];
  if (typeof ours !== 'object' || Array.isArray(ours)) return [`${path}: object expected`];
  const o = ours as Record<string, unknown>;
  const t = theirs as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(t)) {
    if (!(k in o)) problems.push(`${path}.${k} missing`);
    else problems.push(...sameShape(o[k], t[k], `${path}.${k}`));
  }
  for (const k of Object.keys(o)) if (!(k in t)) problems.push(`${path}.${k} not in Stripe's object`);
  return problems;
}

async function stripeError(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string; param?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode?: number; code?: string; param?: string };
  }
  throw new Error('expected the SDK call to fail');
}

describe('disputes in the Stripe dialect (stripe-node against the gateway, real bank)', () => {
  let t: DisputeSystem;

  before(async () => {
    t = await startDisputeSystem('pglite', { windowSeconds: 30 });
  });
  after(async () => {
    await t?.stop();
  });

  async function disputedCharge(amount: number): Promise<{ charge: string; dispute: Stripe.Dispute }> {
    const { sessionId } = await paidCheckout(t.stripe, t.gw.url, { capture: 'automatic', amount });
    await eventually(async () => ((await t.sessionRow(sessionId)).status === 'captured' ? true : undefined));
    assert.equal((await t.stripe.charges.retrieve(`ch_${sessionId.slice(3)}`)).disputed, false);
    const res = await t.dispute(await t.cardholder(), sessionId, 'product_unacceptable');
    assert.equal(res.status, 303);
    const charge = `ch_${sessionId.slice(3)}`;
    const dispute = await eventually(async () => (await t.stripe.disputes.list({ charge })).data[0]);
    return { charge, dispute };
  }

  it('a disputed charge is a Stripe Dispute, announced as charge.dispute.created; evidence staged, submitted and won', async () => {
    const { charge, dispute } = await disputedCharge(2100);
    assert.match(dispute.id, /^dp_/);
    assert.equal(dispute.object, 'dispute');
    assert.equal(dispute.status, 'needs_response');
    assert.equal(dispute.amount, 2100);
    assert.equal(dispute.currency, 'eur');
    assert.equal(dispute.charge, charge);
    assert.equal(dispute.payment_intent, `pi_${charge.slice(3)}`);
    assert.equal(dispute.reason, 'product_unacceptable');
    assert.equal(dispute.evidence_details.has_evidence, false);
    assert.ok(dispute.evidence_details.due_by! > dispute.created);
    assert.deepEqual(sameShape(dispute, FIXTURE, 'dispute'), []);
    const created = await eventually(() =>
      t.stripeHooks.verified.find(
        (d) => d.event.type === 'charge.dispute.created' && (d.event.data.object as { id: string }).id === dispute.id,
      ),
    );
    assert.deepEqual(created.event.data.object, dispute);
    assert.equal((await t.stripe.disputes.retrieve(dispute.id)).id, dispute.id);

    // File evidence needs Stripe's Files API: refused by name.
    const file = await stripeError(t.stripe.disputes.update(dispute.id, { evidence: { receipt: 'file_123' } }));
    assert.equal(file.statusCode, 400);
    assert.equal(file.param, 'evidence[receipt]');

    const staged = await t.stripe.disputes.update(dispute.id, {
      evidence: {
        product_description: 'A mug, white',
        uncategorized_text: 'Receipt and audit trail. winning_evidence',
      },
      submit: false,
    });
    assert.equal(staged.status, 'needs_response');
    assert.equal(staged.evidence.product_description, 'A mug, white');
    assert.equal(staged.evidence_details.submission_count, 0);

    const submitted = await t.stripe.disputes.update(dispute.id, {
      evidence: { customer_email_address: 'payer@shop.test' },
    });
    assert.equal(submitted.status, 'under_review');
    assert.equal(submitted.evidence.customer_email_address, 'payer@shop.test');
    assert.equal(submitted.evidence.product_description, 'A mug, white', 'staged fields are kept');
    assert.equal(submitted.evidence_details.has_evidence, true);
    assert.equal(submitted.evidence_details.submission_count, 1);

    const won = await eventually(async () => {
      const d = await t.stripe.disputes.retrieve(dispute.id);
      return d.status === 'won' ? d : undefined;
    });
    assert.equal(won.status, 'won');
    // Stripe's Charge.disputed: the charge was disputed, whatever the outcome; the same in an expansion.
    assert.equal((await t.stripe.charges.retrieve(charge)).disputed, true);
    const pi = await t.stripe.paymentIntents.retrieve(`pi_${charge.slice(3)}`, { expand: ['latest_charge'] });
    assert.equal((pi.latest_charge as Stripe.Charge).disputed, true);
    const types = await eventually(() => {
      const seen = t.stripeHooks.verified
        .filter((d) => (d.event.data.object as { id: string }).id === dispute.id)
        .map((d) => `${d.event.type}:${(d.event.data.object as { status: string }).status}`);
      return seen.includes('charge.dispute.closed:won') ? seen : undefined;
    });
    assert.ok(types.includes('charge.dispute.updated:under_review'), types.join(', '));
    const late = await stripeError(t.stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'more' } }));
    assert.equal(late.statusCode, 400);
    assert.deepEqual((await verifyLedger(t.gw.database.db)).findings, []);
  });

  it('close accepts the dispute (lost); another merchant gets Stripe 404 for it', async () => {
    const { dispute } = await disputedCharge(1500);
    const notFound = await stripeError(t.other.disputes.retrieve(dispute.id));
    assert.equal(notFound.statusCode, 404);
    assert.equal(notFound.code, 'resource_missing');
    assert.equal((await stripeError(t.other.disputes.close(dispute.id))).statusCode, 404);
    assert.equal(
      (await stripeError(t.other.disputes.update(dispute.id, { evidence: { uncategorized_text: 'x' } }))).statusCode,
      404,
    );
    assert.deepEqual((await t.other.disputes.list()).data, []);
    const closed = await t.stripe.disputes.close(dispute.id);
    assert.equal(closed.status, 'lost');
    // Lost: the cardholder has the money back, so a refund as well is refused as Stripe refuses it.
    const refund = await stripeError(t.stripe.refunds.create({ charge: dispute.charge as string, amount: 100 }));
    assert.equal(refund.statusCode, 400);
    assert.equal(refund.code, 'charge_disputed');
    assert.equal((await stripeError(t.stripe.disputes.close(dispute.id))).statusCode, 400);
    await eventually(() =>
      t.stripeHooks.verified.find(
        (d) => d.event.type === 'charge.dispute.closed' && (d.event.data.object as { id: string }).id === dispute.id,
      ),
    );
    const listed = await t.stripe.disputes.list({ limit: 1 });
    assert.equal(listed.data.length, 1);
    assert.equal(listed.has_more, true);
    const rest = await t.stripe.disputes.list({ limit: 1, starting_after: listed.data[0]!.id });
    assert.equal(rest.data.length, 1);
    assert.notEqual(rest.data[0]!.id, listed.data[0]!.id);
    assert.deepEqual((await verifyLedger(t.gw.database.db)).findings, []);
  });
});
