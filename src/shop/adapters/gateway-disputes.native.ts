// Our gateway's disputes behind the shop's port: the dispute object of its native API (webhook
// `data.object`, `GET /v1/disputes/{id}`, the answers to evidence and acceptance) as the port's neutral
// snapshot, and the three calls through the typed client. Evidence files travel base64 in the JSON body.
import { randomUUID } from 'node:crypto';
import type { Client as Client_ } from 'openapi-fetch';
import { DomainError } from '../../core/errors.ts';
import type { paths } from '../../core/gateway-api.d.ts';
import { money, parseCurrency, type Money } from '../../core/money.ts';
import type { DisputeEvidence, DisputeNews, DisputeSnapshot, GatewayDisputeStatus } from '../domain/gateway.port.ts';

const STATUSES: readonly string[] = ['needs_response', 'under_review', 'won', 'lost'];
const bad = (reason: string) => new DomainError('validation.failed', { reason });

/** The dispute's amount: `amount` in minor units (number or digits) with `currency`, or `{minor, currency}`. */
function disputeAmount(d: Record<string, unknown>): Money {
  const a = d.amount;
  if (a && typeof a === 'object') {
    const o = a as { minor?: unknown; currency?: unknown };
    return money(BigInt(String(o.minor)), parseCurrency(String(o.currency).toUpperCase()));
  }
  if ((typeof a === 'number' && Number.isSafeInteger(a)) || (typeof a === 'string' && /^\d{1,18}$/.test(a)))
    return money(BigInt(a), parseCurrency(String(d.currency).toUpperCase()));
  throw bad('dispute amount');
}

function date(v: unknown, what: string): Date {
  const t = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw bad(what);
  return new Date(t);
}

/** A native dispute object as the port's snapshot (throws `validation.failed` on a bad shape). */
export function disputeSnapshot(raw: unknown): DisputeSnapshot {
  const d = raw as Record<string, unknown> | null;
  if (!d || typeof d.id !== 'string' || typeof d.payment_session !== 'string') throw bad('not a dispute');
  if (typeof d.status !== 'string' || !STATUSES.includes(d.status)) throw bad('dispute status');
  return {
    disputeId: d.id,
    sessionId: d.payment_session,
    amount: disputeAmount(d),
    reason: typeof d.reason === 'string' ? d.reason : 'general',
    status: d.status as GatewayDisputeStatus,
    evidenceDueBy: date(d.evidence_due_by, 'evidence_due_by'),
    created: date(d.created, 'created'),
  };
}

/** Whether a webhook body of our gateway is dispute news (`dispute.created|updated|closed`). */
export function isDisputeEventType(type: unknown): boolean {
  return typeof type === 'string' && /^dispute\.(created|updated|closed)$/.test(type);
}

/** A native dispute event (`data.object` = the dispute) as neutral news. */
export function parseDisputeEvent(raw: unknown, source: DisputeNews['source']): DisputeNews {
  const e = raw as { id?: unknown; type?: unknown; data?: { object?: unknown } } | null;
  if (!e || typeof e.id !== 'string' || !isDisputeEventType(e.type)) throw bad('not a dispute event');
  return { ...disputeSnapshot(e.data?.object), id: e.id, type: e.type as string, source };
}

/** The typed client of the native API (gateway.native.ts builds it over its retrying fetch). */
type Client = Client_<paths>;

/** A refusal of the gateway as the shop's error: the dispute closed, the evidence refused, or the call failed. */
function disputeFailure(err: unknown): unknown {
  if (!(err instanceof DomainError)) return err;
  const { status, code } = (err.details ?? {}) as { status?: number; code?: string | null };
  if (status === 409 && code === 'dispute.not_open') return new DomainError('dispute.not_open');
  if (status === 400 || status === 413 || status === 422)
    return new DomainError('validation.failed', { reason: `The gateway refused the evidence (${code ?? status}).` });
  return err;
}

/** The port's dispute calls over our gateway's native API (the typed client; `expect` maps its answers). */
export function nativeDisputeCalls(
  api: Client,
  expect: <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>) => Promise<T>,
) {
  const at = (id: string) => ({ params: { path: { id } } });
  // One key per call: the retrying fetch's repeats of this call are one submission at the gateway.
  const once = () => ({ headers: { 'idempotency-key': `dispute-${randomUUID()}` } });
  const run = (call: () => Promise<unknown>) =>
    call().then(disputeSnapshot, (err: unknown) => {
      throw disputeFailure(err);
    });
  return {
    getDispute: (id: string) => run(() => expect(api.GET('/v1/disputes/{id}', at(id)))),
    submitDisputeEvidence: (id: string, evidence: DisputeEvidence) =>
      run(() =>
        expect(
          api.POST('/v1/disputes/{id}/evidence', {
            ...at(id),
            ...once(),
            body: {
              text: evidence.text,
              files: evidence.files.map((f) => ({
                name: f.name,
                content_type: f.contentType,
                content_base64: Buffer.from(f.content).toString('base64'),
              })),
            },
          }),
        ),
      ),
    acceptDispute: (id: string) => run(() => expect(api.POST('/v1/disputes/{id}/accept', { ...at(id), ...once() }))),
  };
}
