// The approval crash cases' tools (test/proof-crash-approval.test.ts): a real SIGKILL (or SIGSTOP /
// SIGCONT) of one party's process at a moment the test chooses — not at a crash point — the
// cardholder's answer in the bank app over HTTP, and what each payment must have become at the bank,
// the gateway and the shop once the system has converged.
import { DEMO_CARDHOLDER } from '../../src/bank/storage/seed-demo.ts';
import { logIn } from '../../src/bank/testing.ts';
import { checkInvariants, isConsistent, type Verdict } from './proof-crash-invariants.ts';
import type { PartyProcesses, Party } from './harness/processes.ts';
import { cardDetails } from './factories.ts';

/** The card whose payment waits for the cardholder's answer in the bank app (README's test-card table). */
export const CARD_NEEDS_APPROVAL = cardDetails('4000002500003155', { name: 'Crash Tester' });

/** SIGKILLs the party's process (no shutdown hook, no flushed buffers) and waits until it is gone. */
export async function kill(system: PartyProcesses, party: Party): Promise<void> {
  system.signal(party, 'SIGKILL');
  const exit = await system.waitExit(party, 10_000);
  if (exit?.signal !== 'SIGKILL')
    throw new Error(`${party} did not die of SIGKILL (${exit ? (exit.signal ?? exit.code) : 'still running'})`);
}

/** The demo cardholder, logged in to the bank app (its session lives in the bank's database: it survives a bank restart). */
export async function bankAppLogin(system: PartyProcesses): Promise<{ cookie: string; csrf: string }> {
  const login = await logIn(system.urls.bank, DEMO_CARDHOLDER.email, DEMO_CARDHOLDER.password);
  if (!login.cookie || !login.csrf) throw new Error(`bank app login answered ${login.status}`);
  return login;
}

export type Answer = 'approve' | 'decline';

/** The cardholder answers the approval request of the payment for `sessionId` in the bank app; the HTTP status. */
export async function answerInBankApp(
  system: PartyProcesses,
  login: { cookie: string; csrf: string },
  sessionId: string,
  answer: Answer,
): Promise<number> {
  const [request] = await system.query<{ id: string }>(
    'bank',
    `select r.id from approval_requests r join authorizations a on a.id = r.authorization_id where a.gateway_ref = $1`,
    [sessionId],
  );
  if (!request) throw new Error(`no approval request at the bank for session ${sessionId}`);
  const res = await fetch(`${system.urls.bank}/app/approvals/${request.id}/${answer}`, {
    method: 'POST',
    headers: { cookie: login.cookie, 'x-csrf-token': login.csrf, accept: 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  await res.text();
  return res.status;
}

/** The gateway's status of each session. */
export async function sessionStatuses(
  system: PartyProcesses,
  sessionIds: readonly string[],
): Promise<Map<string, string>> {
  const rows = await system.query<{ id: string; status: string }>(
    'gateway',
    'select id, status from payment_sessions where id = any($1)',
    [sessionIds],
  );
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Callbacks the bank has written for these sessions' decisions but not (to its knowledge) delivered; `tried`: only those it already failed to deliver. */
export async function undeliveredCallbacks(
  system: PartyProcesses,
  sessionIds: readonly string[],
  tried = false,
): Promise<number> {
  const [row] = await system.query<{ n: string }>(
    'bank',
    `select count(*)::text as n from gateway_callbacks c join authorizations a on a.id = c.authorization_id
      where a.gateway_ref = any($1) and c.status <> 'delivered' and ($2::boolean is false or c.attempts > 0)`,
    [sessionIds, tried],
  );
  return Number(row?.n ?? 0);
}

/** Polls `read` until `done` holds or `ms` pass; the last value read. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    value = await read();
  }
  return value;
}

/**
 * What the cardholder's answer must have made of each payment, read from the three databases.
 * Approved: captured once at the bank (nothing held), captured at the gateway, the invoice paid by a
 * paying attempt. Declined: nothing debited or held at the bank, declined at the gateway, the shop's
 * attempt declined and its invoice still open. Problems are sorted into the report's columns.
 */
export async function outcomeProblems(
  system: PartyProcesses,
  answers: ReadonlyMap<string, Answer>,
): Promise<{ lost: string[]; wronglyAccepted: string[]; pending: string[] }> {
  const ids = [...answers.keys()];
  type Auth = {
    gateway_ref: string;
    status: string;
    amount_minor: string;
    captured_minor: string;
    held_minor: string;
    captures: string;
  };
  type Shop = { session_id: string; attempt: string; invoice: string };
  const [auths, sessions, shop] = await Promise.all([
    system.query<Auth>(
      'bank',
      `select a.gateway_ref, a.status, a.amount_minor::text, a.captured_minor::text, a.held_minor::text,
              (select count(*) from movements m where m.authorization_id = a.id and m.kind = 'capture')::text as captures
         from authorizations a where a.gateway_ref = any($1)`,
      [ids],
    ),
    sessionStatuses(system, ids),
    system.query<Shop>(
      'shop',
      `select a.gateway_session_id as session_id, a.status as attempt, i.status as invoice
         from payment_attempts a join invoices i on i.id = a.invoice_id where a.gateway_session_id = any($1)`,
      [ids],
    ),
  ]);
  const authBy = new Map(auths.map((a) => [a.gateway_ref, a]));
  const shopBy = new Map(shop.map((s) => [s.session_id, s]));
  const lost: string[] = [];
  const wronglyAccepted: string[] = [];
  const pending: string[] = [];
  for (const [id, answer] of answers) {
    const a = authBy.get(id);
    const s = sessions.get(id);
    const sh = shopBy.get(id);
    const state = `bank ${a?.status ?? 'none'} (captured ${a?.captured_minor ?? '-'}, held ${a?.held_minor ?? '-'}, ${a?.captures ?? 0} captures), gateway ${s ?? 'none'}, shop attempt ${sh?.attempt ?? 'none'} invoice ${sh?.invoice ?? 'none'}`;
    if (answer === 'approve') {
      const done =
        a !== undefined &&
        a.captures === '1' &&
        a.captured_minor === a.amount_minor &&
        a.held_minor === '0' &&
        s === 'captured' &&
        sh !== undefined &&
        sh.invoice === 'paid' &&
        ['paid', 'captured'].includes(sh.attempt);
      if (!done) lost.push(`approved ${id}: ${state}`);
    } else {
      const charged = a !== undefined && (a.captures !== '0' || a.captured_minor !== '0');
      const paid = sh !== undefined && (sh.invoice !== 'open' || ['paid', 'captured'].includes(sh.attempt));
      if (charged || paid) wronglyAccepted.push(`declined ${id} but ${state}`);
      else if (a?.held_minor !== '0' || s !== 'declined' || sh?.attempt !== 'declined')
        pending.push(`declined ${id}, not yet everywhere: ${state}`);
    }
  }
  return { lost, wronglyAccepted, pending };
}

export interface Outcome {
  readonly verdict: Verdict;
  readonly problems: Awaited<ReturnType<typeof outcomeProblems>>;
  /** Sessions still waiting (for the cardholder, or for their acknowledgement and settlement), for the failure message. */
  readonly unsettled: string[];
  readonly afterMs: number;
}

export const outcomeOk = (o: Outcome) =>
  isConsistent(o.verdict) &&
  o.problems.lost.length === 0 &&
  o.problems.wronglyAccepted.length === 0 &&
  o.problems.pending.length === 0;

/** Polls the matrix's invariants and every payment's expected outcome until both hold, or `ms` pass. */
export async function convergeOutcome(
  system: PartyProcesses,
  answers: ReadonlyMap<string, Answer>,
  ms: number,
): Promise<Outcome> {
  const t0 = Date.now();
  const read = async (): Promise<Outcome> => ({
    verdict: await checkInvariants(system),
    problems: await outcomeProblems(system, answers),
    unsettled: (
      await system.query<{ id: string; status: string }>(
        'gateway',
        `select id, status from payment_sessions where status in ('requires_approval', 'authorized')`,
      )
    ).map(
      (s) =>
        `${s.id} ${s.status}${answers.has(s.id) ? ` (answered: ${answers.get(s.id)})` : ' (not answered by the case)'}`,
    ),
    afterMs: Date.now() - t0,
  });
  let outcome = await read();
  while (!outcomeOk(outcome) && Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 500));
    outcome = await read();
  }
  return outcome;
}

/** Every problem an outcome shows, one line each (for the report's failures and the test's output). */
export function describeVerdictProblems(o: Outcome): string[] {
  const v = o.verdict;
  return [
    ...o.problems.lost,
    ...o.problems.wronglyAccepted,
    ...o.problems.pending,
    ...v.lost,
    ...v.doubleFulfilled,
    ...v.wronglyAccepted,
    ...v.holdsLeft,
    ...v.ledger,
    ...(v.auditOk ? [] : [`audit chain ${v.auditDetail}`]),
    ...(v.settled ? [] : [`not settled after ${o.afterMs} ms: ${o.unsettled.join(', ')}`]),
  ];
}
