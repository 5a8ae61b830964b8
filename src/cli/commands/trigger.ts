// `countersign trigger <scenario>`: a real payment through the gateway and the bank that ends in the
// named state. With the shop running, the payment is a real order of the shop's demo customer (the
// shop acknowledges it, the gateway captures); without it (`start --only gateway,bank`), a payment
// session of the merchant's own that the command acknowledges through the API. `payment.voided` is a
// session the shop does not know: the shop refuses it, the gateway voids.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { answerApproval } from '../bank-app.ts';
import type { CliContext } from '../context.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { expectOk, gatewayClient, type GatewayEvent, type PaymentSession } from '../gateway-client.ts';
import { action, type RunIo } from '../program.ts';
import { payNowInShop } from '../shop-customer.ts';
import { eventLine } from './events.ts';
import { currentCursor } from './listen-stream.ts';

interface Scenario {
  readonly card: string;
  /** The session status it ends in. */
  readonly ends: string;
  readonly approval?: 'approve' | 'decline';
  readonly refund?: 'partial' | 'full';
  /** A session the shop does not know (its refusal voids it). */
  readonly unknownToShop?: boolean;
  readonly declineReason?: string;
  readonly what: string;
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'payment.captured': { card: '4242424242424242', ends: 'captured', what: 'approved, acknowledged, captured' },
  'payment.declined': { card: '4000000000000002', ends: 'declined', what: 'declined by the bank' },
  'payment.insufficient_funds': {
    card: '4000000000009995',
    ends: 'declined',
    declineReason: 'insufficient_funds',
    what: 'declined: insufficient funds',
  },
  'payment.approval_approved': {
    card: '4000002500003155',
    ends: 'captured',
    approval: 'approve',
    what: 'approved by the cardholder in the bank app, captured',
  },
  'payment.approval_declined': {
    card: '4000002500003155',
    ends: 'declined',
    approval: 'decline',
    what: 'declined by the cardholder in the bank app',
  },
  'payment.approval_timed_out': {
    card: '4000000000003220',
    ends: 'declined',
    what: 'the cardholder does not answer in time (about 8 s)',
  },
  'payment.voided': {
    card: '4242424242424242',
    ends: 'voided',
    unknownToShop: true,
    what: 'authorised, refused by the shop (it does not know the payment), voided',
  },
  'refund.partial': {
    card: '4242424242424242',
    ends: 'partially_refunded',
    refund: 'partial',
    what: 'captured, then half refunded',
  },
  'refund.full': {
    card: '4242424242424242',
    ends: 'refunded',
    refund: 'full',
    what: 'captured, then refunded in full',
  },
};

const SETTLED = new Set(['captured', 'voided', 'declined', 'expired', 'canceled', 'partially_refunded', 'refunded']);

async function session(ctx: CliContext, id: string): Promise<PaymentSession> {
  return expectOk(
    ctx,
    `payment session ${id}`,
    gatewayClient(ctx).GET('/v1/payment_sessions/{id}', { params: { path: { id } } }),
  );
}

/** Polls the session until `done` holds (or fails after `ms`). */
async function until(ctx: CliContext, id: string, done: (s: PaymentSession) => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const s = await session(ctx, id);
    if (done(s)) return s;
    if (Date.now() > end)
      throw new CliError(
        EXIT.problem,
        `payment session ${id} is still ${s.status} after ${ms / 1000} s`,
        'trigger.timeout',
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a shop answers at the shop URL (then the payment goes through it). */
async function shopRunning(ctx: CliContext): Promise<boolean> {
  try {
    return (await ctx.fetch(`${ctx.shopUrl}/readyz`)).ok;
  } catch {
    return false;
  }
}

async function openSession(ctx: CliContext, scenario: Scenario, viaShop: boolean): Promise<string> {
  if (viaShop && !scenario.unknownToShop) return (await payNowInShop(ctx)).sessionId;
  const created = await expectOk(
    ctx,
    'payment session',
    gatewayClient(ctx).POST('/v1/payment_sessions', {
      body: {
        amount: { minor: '2500', currency: 'EUR' },
        merchant_reference: `trigger_${randomBytes(6).toString('hex')}`,
        description: 'countersign trigger',
      },
    }),
  );
  return created.id;
}

async function payWithCard(ctx: CliContext, sessionId: string, card: string): Promise<void> {
  const res = await ctx
    .fetch(`${ctx.gatewayUrl}/pay/${sessionId}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ number: card, exp_month: 12, exp_year: 2034, cvc: '123', name: 'Demo Cardholder' }),
    })
    .catch(() => undefined);
  if (!res || res.status >= 500)
    throw new CliError(
      EXIT.problem,
      `the hosted page refused the card (${res?.status ?? 'no answer'})`,
      'trigger.card_refused',
    );
}

/** Drives one scenario to its end; resolves with the session, the refund id if any. */
async function drive(ctx: CliContext, scenario: Scenario, viaShop: boolean) {
  const out = ctx.out.progress('paying');
  try {
    const sessionId = await openSession(ctx, scenario, viaShop);
    await payWithCard(ctx, sessionId, scenario.card);
    if (scenario.approval) {
      await until(ctx, sessionId, (s) => s.status === 'requires_approval');
      await answerApproval(ctx, scenario.card.slice(-4), scenario.approval);
    }
    let s = await until(ctx, sessionId, (x) => SETTLED.has(x.status) || (x.status === 'authorized' && !viaShop));
    // Without the shop, the command is the merchant: it acknowledges the authorisation itself.
    if (s.status === 'authorized')
      await expectOk(
        ctx,
        'acknowledge',
        gatewayClient(ctx).POST('/v1/payment_sessions/{id}/acknowledge', { params: { path: { id: sessionId } } }),
      );
    s = await until(ctx, sessionId, (x) => SETTLED.has(x.status));
    let refundId: string | undefined;
    if (scenario.refund && s.status === 'captured') {
      const total = BigInt(s.captured_amount?.minor ?? s.amount.minor);
      const minor = scenario.refund === 'full' ? total : total / 2n || 1n;
      const refund = await expectOk(
        ctx,
        'refund',
        gatewayClient(ctx).POST('/v1/refunds', {
          body: {
            session_id: sessionId,
            amount: { minor: minor.toString(), currency: s.amount.currency },
            reason: 'countersign trigger',
          },
        }),
      );
      refundId = refund.id;
      s = await until(ctx, sessionId, (x) => x.status === scenario.ends || x.status === 'refunded');
    }
    return { s, refundId };
  } finally {
    out.done();
  }
}

async function trigger(ctx: CliContext, name: string): Promise<number> {
  const scenario = SCENARIOS[name];
  if (!scenario)
    throw new CliError(
      EXIT.usage,
      `unknown scenario ${name}; one of: ${Object.keys(SCENARIOS).join(', ')}`,
      'trigger.unknown',
    );
  const viaShop = await shopRunning(ctx);
  if (scenario.unknownToShop && !viaShop)
    throw new CliError(
      EXIT.unavailable,
      `${name} needs the shop (its refusal voids the payment); none answers at ${ctx.shopUrl}`,
      'service.unreachable',
    );
  const from = await currentCursor(ctx);
  const { s, refundId } = await drive(ctx, scenario, viaShop);
  // Events are written with the change, so those of a settled session are all in the feed already.
  const events: GatewayEvent[] = [];
  const client = gatewayClient(ctx);
  for (let after = from, more = true; more; ) {
    const page = await expectOk(ctx, 'events', client.GET('/v1/events', { params: { query: { after, limit: 100 } } }));
    events.push(...page.data.filter((e) => e.data.session_id === s.id));
    more = page.has_more;
    after = page.next_cursor;
  }
  const ok = s.status === scenario.ends && (!scenario.declineReason || s.decline_reason === scenario.declineReason);
  ctx.out.result({
    scenario: name,
    ok,
    via: viaShop && !scenario.unknownToShop ? 'shop' : 'gateway',
    session_id: s.id,
    status: s.status,
    decline_reason: s.decline_reason,
    void_reason: s.void_reason,
    refund_id: refundId ?? null,
    events,
  });
  ctx.out.line(
    `${name}: ${scenario.what}${viaShop && !scenario.unknownToShop ? " (an order of the shop's demo customer)" : ''}`,
  );
  ctx.out.line(
    `session  ${s.id}  ${s.status}${s.decline_reason ? ` (${s.decline_reason})` : ''}${s.void_reason ? ` (${s.void_reason})` : ''}`,
  );
  if (refundId) ctx.out.line(`refund   ${refundId}`);
  ctx.out.line(`events (${events.length}):`);
  for (const e of events) ctx.out.line(`  ${eventLine(e)}`);
  if (!ok)
    ctx.out.line(
      `expected ${scenario.ends}${scenario.declineReason ? ` (${scenario.declineReason})` : ''}, got ${s.status}`,
    );
  return ok ? EXIT.ok : EXIT.problem;
}

/** Adds `trigger`. */
export function registerTrigger(program: Command, io: RunIo): void {
  program
    .command('trigger')
    .description(
      'make a real payment through the gateway and the bank that ends in the named state; prints its ids and events',
    )
    .argument('<scenario>', Object.keys(SCENARIOS).join(' | '))
    .addHelpText(
      'after',
      `\nScenarios:\n${Object.entries(SCENARIOS)
        .map(([k, v]) => `  ${k.padEnd(28)} ${v.what}`)
        .join('\n')}`,
    )
    .action(action(io, trigger));
}
