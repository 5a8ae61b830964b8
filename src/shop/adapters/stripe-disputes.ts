// Disputes on Stripe behind the shop's port: a Stripe Dispute (`charge.dispute.*` events, retrieve,
// the answers to update and close) as the port's neutral snapshot, its payment resolved to our session
// (the PaymentIntent's Checkout Session), and the calls. Stripe's file evidence needs its Files API,
// so the evidence files are folded into `evidence[uncategorized_text]` as text (their text rendition,
// a text file's content, or a line naming a file that cannot be shown as text).
import type Stripe from 'stripe';
import { DomainError } from '../../core/errors.ts';
import type {
  DisputeEvidence,
  DisputeNews,
  DisputeSnapshot,
  EvidenceFile,
  GatewayDisputeStatus,
} from '../domain/gateway.port.ts';
import { stripeMoney, type Owner } from './stripe-mapping.ts';

/** The event types of disputes the shop reads. */
export const STRIPE_DISPUTE_EVENT_TYPES = [
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
] as const;

/** Stripe's evidence text limit (characters). */
export const STRIPE_EVIDENCE_TEXT_LIMIT = 20_000;

/** Stripe's dispute status as the port's (warnings, which carry no money, as their plain forms); undefined: not one the shop follows. */
export function stripeDisputeStatus(status: string): GatewayDisputeStatus | undefined {
  switch (status) {
    case 'needs_response':
    case 'warning_needs_response':
      return 'needs_response';
    case 'under_review':
    case 'warning_under_review':
      return 'under_review';
    case 'won':
    case 'warning_closed':
      return 'won';
    case 'lost':
      return 'lost';
    default:
      return undefined;
  }
}

/** A Stripe Dispute whose payment is our session `owner`, as the port's snapshot (undefined: a status the shop does not follow). */
export function stripeDisputeSnapshot(d: Stripe.Dispute, owner: Owner): DisputeSnapshot | undefined {
  const status = stripeDisputeStatus(d.status);
  if (!status) return undefined;
  return {
    disputeId: d.id,
    sessionId: owner.sessionId,
    ...(owner.invoiceId ? { invoiceId: owner.invoiceId } : {}),
    amount: stripeMoney(d.amount, d.currency),
    reason: d.reason,
    status,
    evidenceDueBy: new Date((d.evidence_details?.due_by ?? d.created) * 1000),
    created: new Date(d.created * 1000),
  };
}

/** One file as text for `uncategorized_text`. */
function fileAsText(f: EvidenceFile): string {
  const head = `--- ${f.name} (${f.contentType}, ${f.content.byteLength} bytes) ---`;
  if (f.text !== undefined) return `${head}\n${f.text}`;
  if (f.contentType.startsWith('text/')) return `${head}\n${Buffer.from(f.content).toString('utf8')}`;
  return `${head}\n(not shown as text; kept by the shop)`;
}

/** The evidence as Stripe's one text field: the statement, then each file; cut to Stripe's limit. */
export function foldEvidence(evidence: DisputeEvidence): string {
  const text = [evidence.text, ...evidence.files.map(fileAsText)].join('\n\n');
  if (text.length <= STRIPE_EVIDENCE_TEXT_LIMIT) return text;
  const note = '\n… (cut at 20000 characters)';
  return text.slice(0, STRIPE_EVIDENCE_TEXT_LIMIT - note.length) + note;
}

interface Reads {
  ownerOf(paymentIntent: string): Promise<Owner | undefined>;
}

/** The port's dispute calls over the SDK; `call` maps the SDK's failures to the shop's errors. */
export function stripeDisputeCalls(
  stripe: Stripe,
  read: Reads,
  call: <T>(what: string, run: () => Promise<T>) => Promise<T>,
) {
  async function ownerOfDispute(d: Stripe.Dispute): Promise<Owner | undefined> {
    let pi = typeof d.payment_intent === 'string' ? d.payment_intent : (d.payment_intent?.id ?? null);
    if (!pi) {
      const chargeId = typeof d.charge === 'string' ? d.charge : d.charge.id;
      const charge = await call('retrieve charge', () => stripe.charges.retrieve(chargeId));
      pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null);
    }
    return pi ? read.ownerOf(pi) : undefined;
  }
  async function snapshot(d: Stripe.Dispute): Promise<DisputeSnapshot> {
    const owner = await ownerOfDispute(d);
    const s = owner ? stripeDisputeSnapshot(d, owner) : undefined;
    if (!s) throw new DomainError('upstream.unavailable', { what: 'dispute of no payment of ours', status: d.status });
    return s;
  }
  /** A refused update or close: the dispute is closed (dispute.not_open) or the refusal stands. */
  async function refusal(id: string, err: unknown): Promise<never> {
    const current = await call('retrieve dispute', () => stripe.disputes.retrieve(id)).catch(() => undefined);
    if (current && stripeDisputeStatus(current.status) !== 'needs_response') throw new DomainError('dispute.not_open');
    throw err;
  }
  return {
    /** A verified `charge.dispute.*` event as neutral news (null: not a dispute of a payment of ours). */
    async toDisputeNews(event: Stripe.Event, source: DisputeNews['source']): Promise<DisputeNews | null> {
      const d = event.data.object as Stripe.Dispute;
      if (d.object !== 'dispute') return null;
      const owner = await ownerOfDispute(d);
      const s = owner ? stripeDisputeSnapshot(d, owner) : undefined;
      return s ? { ...s, id: event.id, type: event.type, source } : null;
    },
    async getDispute(id: string): Promise<DisputeSnapshot> {
      return snapshot(await call('retrieve dispute', () => stripe.disputes.retrieve(id)));
    },
    async submitDisputeEvidence(id: string, evidence: DisputeEvidence): Promise<DisputeSnapshot> {
      const params = { evidence: { uncategorized_text: foldEvidence(evidence) }, submit: true };
      const d = await call('update dispute', () => stripe.disputes.update(id, params)).catch((e) => refusal(id, e));
      return snapshot(d);
    },
    async acceptDispute(id: string): Promise<DisputeSnapshot> {
      const d = await call('close dispute', () => stripe.disputes.close(id)).catch((e) => refusal(id, e));
      return snapshot(d);
    },
  };
}
