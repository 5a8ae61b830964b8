// The crash matrix's verdict, read from the three databases at once (each party's own; no service
// is asked): the money at the bank, the sessions at the gateway and the invoices at the shop agree,
// and the books pass `ledger verify` (the same checks: the gateway's and the bank's ledgers, and the
// three-way match of paid invoices, captures and debits).
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { openDatabase, openExistingDatabase } from '../../src/platform/db/database.ts';
import { verifyBooks } from '../../src/cli/books-verify.ts';
import { verifyShopAudit } from '../../src/shop/audit/verify.ts';
import type { PartyProcesses } from './harness/processes.ts';

const gatewaySpec = {
  name: 'gateway',
  migrationsFolder: fileURLToPath(new URL('../../src/gateway/storage/migrations', import.meta.url)),
} as const;

const bankSpec = {
  name: 'bank',
  migrationsFolder: fileURLToPath(new URL('../../src/bank/storage/migrations', import.meta.url)),
} as const;

const shopSpec = {
  name: 'shop',
  migrationsFolder: fileURLToPath(new URL('../../src/shop/storage/migrations', import.meta.url)),
} as const;

export interface Verdict {
  /** Nothing is still in flight: no authorisation waiting for its acknowledgement or settlement. */
  readonly settled: boolean;
  /** Debited at the bank but neither a paid invoice with a captured session, nor voided, nor refunded. */
  readonly lost: string[];
  /** Paid, captured, applied or debited more than once. */
  readonly doubleFulfilled: string[];
  /** The shop treats as paid what was not captured (it would ship an unpaid order). */
  readonly wronglyAccepted: string[];
  /** Holds left at the bank for a payment nobody captures or voids. */
  readonly holdsLeft: string[];
  readonly auditOk: boolean;
  readonly auditDetail: string;
  /** Every difference `ledger verify` lists: the gateway's and the bank's books, and the three-way match. */
  readonly ledger: string[];
  readonly figures: { debited: number; voided: number; paidInvoices: number; reversed: number; sessions: number };
}

export const isConsistent = (v: Verdict) =>
  v.settled &&
  v.lost.length === 0 &&
  v.doubleFulfilled.length === 0 &&
  v.wronglyAccepted.length === 0 &&
  v.holdsLeft.length === 0 &&
  v.ledger.length === 0 &&
  v.auditOk;

const CAPTURED_AT_GATEWAY = ['captured', 'partially_refunded', 'refunded'];

export async function checkInvariants(system: PartyProcesses): Promise<Verdict> {
  type Auth = {
    id: string;
    gateway_ref: string;
    status: string;
    captured_minor: string;
    held_minor: string;
    captures: string;
  };
  type Sess = {
    id: string;
    status: string;
    merchant_reference: string;
    acknowledgement: string | null;
    captures: string;
  };
  type Inv = { id: string; status: string; order_id: string; order_status: string; pays: string };
  type Att = { id: string; invoice_id: string; status: string; gateway_session_id: string | null };
  const [auths, sessions, invoices, attempts, eventDupes, paidPerOrder] = await Promise.all([
    system.query<Auth>(
      'bank',
      `select a.id, a.gateway_ref, a.status, a.captured_minor::text, a.held_minor::text,
              (select count(*) from movements m where m.authorization_id = a.id and m.kind = 'capture')::text as captures
         from authorizations a`,
    ),
    system.query<Sess>(
      'gateway',
      `select s.id, s.status, s.merchant_reference, s.acknowledgement,
              (select count(*) from events e where e.session_id = s.id and e.type = 'payment.captured')::text as captures
         from payment_sessions s`,
    ),
    system.query<Inv>(
      'shop',
      `select i.id, i.status, i.order_id, o.status as order_status,
              (select count(*) from audit_log l where l.subject = i.id and l.action = 'invoice.pay')::text as pays
         from invoices i join orders o on o.id = i.order_id`,
    ),
    system.query<Att>('shop', 'select id, invoice_id, status, gateway_session_id from payment_attempts'),
    system.query<{ event_id: string; action: string; n: string }>(
      'shop',
      `select data->>'eventId' as event_id, action, count(*)::text as n from audit_log
        where data ? 'eventId' group by 1, 2 having count(*) > 1`,
    ),
    system.query<{ order_id: string; n: string }>(
      'shop',
      `select order_id, count(*)::text as n from invoices where status in ('paid', 'refunded') group by 1 having count(*) > 1`,
    ),
  ]);
  const sessionById = new Map(sessions.map((s) => [s.id, s]));
  const invoiceById = new Map(invoices.map((i) => [i.id, i]));
  // The shop keeps the id its gateway gave: ours (ps_X), or Stripe's Checkout Session (cs_X) of the same session.
  for (const a of attempts) if (a.gateway_session_id) a.gateway_session_id = ourSessionId(a.gateway_session_id);
  const attemptsBySession = new Map(
    attempts.filter((a) => a.gateway_session_id).map((a) => [a.gateway_session_id!, a]),
  );
  const authBySession = new Map(auths.map((a) => [a.gateway_ref, a]));
  const lost: string[] = [];
  const doubleFulfilled: string[] = [];
  const wronglyAccepted: string[] = [];
  const holdsLeft: string[] = [];

  // Every debit at the bank is a captured session at the gateway and a paid (or since refunded) invoice at the shop.
  for (const a of auths) {
    const captures = Number(a.captures);
    if (captures > 1) doubleFulfilled.push(`bank authorisation ${a.id} debited ${captures} times`);
    if (BigInt(a.captured_minor) === 0n && captures === 0) continue;
    const s = sessionById.get(a.gateway_ref);
    if (!s || !CAPTURED_AT_GATEWAY.includes(s.status)) {
      lost.push(
        `debited at the bank (${a.id}) but session ${a.gateway_ref} is ${s?.status ?? 'unknown'} at the gateway`,
      );
      continue;
    }
    const inv = invoiceById.get(s.merchant_reference);
    const att = attemptsBySession.get(s.id);
    if (
      !inv ||
      !['paid', 'refunded'].includes(inv.status) ||
      !att ||
      !['paid', 'captured', 'refunded'].includes(att.status)
    ) {
      lost.push(
        `debited at the bank for session ${s.id} but invoice ${s.merchant_reference} is ${inv?.status ?? 'unknown'} (attempt ${att?.status ?? 'none'}) at the shop`,
      );
    }
  }
  // A hold the bank keeps for a session that will never capture it.
  for (const a of auths) {
    if (a.status !== 'approved' || BigInt(a.held_minor) === 0n) continue;
    const s = sessionById.get(a.gateway_ref);
    if (s?.status === 'authorized') continue; // still being decided (not settled yet)
    holdsLeft.push(
      `bank authorisation ${a.id} still holds ${a.held_minor} for session ${a.gateway_ref}, ${s?.status ?? 'unknown'} at the gateway`,
    );
  }
  // Captures once; nothing captured whose invoice the shop does not hold as paid.
  for (const s of sessions) {
    if (Number(s.captures) > 1) doubleFulfilled.push(`session ${s.id} captured ${s.captures} times`);
    if (!CAPTURED_AT_GATEWAY.includes(s.status)) continue;
    const a = authBySession.get(s.id);
    if (!a || (BigInt(a.captured_minor) === 0n && Number(a.captures) === 0))
      lost.push(`session ${s.id} captured at the gateway, not debited at the bank`);
  }
  // Paid at the shop: once, by one attempt, and captured at the gateway.
  const payingAttempts = new Map<string, Att[]>();
  for (const a of attempts)
    if (['paid', 'captured', 'refunded'].includes(a.status))
      payingAttempts.set(a.invoice_id, [...(payingAttempts.get(a.invoice_id) ?? []), a]);
  // A session left `processing` by a crash during the bank call is not in flight: nothing will move it
  // for minutes (recoverInterrupted); whatever the bank holds for it is judged by holdsLeft.
  const settled = !sessions.some((s) => s.status === 'authorized' || s.status === 'requires_approval');
  for (const inv of invoices) {
    if (Number(inv.pays) > 1) doubleFulfilled.push(`invoice ${inv.id} paid ${inv.pays} times`);
    const paying = payingAttempts.get(inv.id) ?? [];
    if (paying.length > 1) doubleFulfilled.push(`invoice ${inv.id} has ${paying.length} paying attempts`);
    if (inv.status !== 'paid') continue;
    if (inv.order_status !== 'paid')
      wronglyAccepted.push(`invoice ${inv.id} paid but its order is ${inv.order_status}`);
    const s = paying[0]?.gateway_session_id ? sessionById.get(paying[0].gateway_session_id) : undefined;
    if (settled && (!s || !CAPTURED_AT_GATEWAY.includes(s.status))) {
      wronglyAccepted.push(
        `invoice ${inv.id} paid at the shop (order ${inv.order_status}) but its session ${s?.id ?? 'none'} is ${s?.status ?? 'unknown'} at the gateway`,
      );
    }
  }
  for (const o of paidPerOrder) doubleFulfilled.push(`order ${o.order_id} has ${o.n} paid invoices`);
  for (const e of eventDupes) doubleFulfilled.push(`gateway event ${e.event_id} applied ${e.n} times (${e.action})`);

  const open = (spec: { name: string; migrationsFolder: string }, url: string) =>
    openExistingDatabase(spec, { engine: 'postgres', url, poolSize: 1 });
  const database = await openDatabase(shopSpec, { engine: 'postgres', url: system.databaseUrls.shop, poolSize: 1 });
  let auditOk = false;
  let auditDetail = '';
  let ledger: string[] = [];
  try {
    const audit = await verifyShopAudit(database);
    auditOk = audit.ok;
    auditDetail = audit.ok
      ? `intact, ${audit.count} entries`
      : `broken at #${audit.broken.seq}: ${audit.broken.reason}`;
    const gateway = await open(gatewaySpec, system.databaseUrls.gateway);
    const bank = await open(bankSpec, system.databaseUrls.bank);
    try {
      // What `countersign ledger verify` checks: both ledgers and the three-way match.
      const books = await verifyBooks({ gateway: gateway.db, bank: bank.db, shop: database.db });
      ledger = books.findings.map((f) => `ledger ${f.party} ${f.check} ${f.subject}: ${f.detail}`);
    } finally {
      await Promise.all([gateway.close(), bank.close()]);
    }
  } finally {
    await database.close();
  }
  return {
    settled,
    ledger,
    lost,
    doubleFulfilled,
    wronglyAccepted,
    holdsLeft,
    auditOk,
    auditDetail,
    figures: {
      debited: auths.filter((a) => BigInt(a.captured_minor) > 0n).length,
      voided: sessions.filter((s) => s.status === 'voided').length,
      paidInvoices: invoices.filter((i) => i.status === 'paid').length,
      reversed: invoices.filter((i) => i.status === 'reversed').length,
      sessions: sessions.length,
    },
  };
}

/** The gateway's session id behind the id the shop keeps (a Stripe Checkout Session or PaymentIntent id is a view of ps_X). */
export function ourSessionId(id: string): string {
  return /^(cs|pi)_/.test(id) ? `ps_${id.slice(3)}` : id;
}

/** Polls the verdict until the system is settled and consistent, or `ms` pass; returns the last verdict. */
export async function convergence(system: PartyProcesses, ms: number): Promise<{ verdict: Verdict; afterMs: number }> {
  const t0 = Date.now();
  let verdict = await checkInvariants(system);
  while (!isConsistent(verdict) && Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 500));
    verdict = await checkInvariants(system);
  }
  return { verdict, afterMs: Date.now() - t0 };
}

/** Fails the test on any broken invariant of the verdict; `what` names the case, `hint` the replay. */
export function assertVerdict(v: Verdict, what: string, hint: string, convergedMs: number): void {
  assert.deepEqual(v.lost, [], `${what}: lost; ${hint}`);
  assert.deepEqual(v.holdsLeft, [], `${what}: holds left at the bank; ${hint}`);
  assert.deepEqual(v.doubleFulfilled, [], `${what}: fulfilled twice; ${hint}`);
  assert.deepEqual(v.wronglyAccepted, [], `${what}: paid at the shop but not captured; ${hint}`);
  assert.ok(v.auditOk, `${what}: audit chain ${v.auditDetail}; ${hint}`);
  assert.deepEqual(v.ledger, [], `${what}: ledger verify; ${hint}`);
  assert.ok(v.settled, `${what}: still not settled after ${convergedMs} ms; ${hint}`);
}
