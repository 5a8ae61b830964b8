// `ledger verify`: the operator's check of the gateway's books, across every merchant, read-only.
// Each check is one query that returns the differences it finds (nothing when the books are right):
//
//   transfer_invalid       a transfer in another currency than its accounts, or a post or void that does
//                          not match its pending transfer (the balance of each transfer holds by its shape)
//   currency_unbalanced    the sum of all accounts' debits minus credits, per currency, is not zero
//   balance_mismatch       an account's stored totals differ from the sum of its transfers
//   limit_broken           an account that must not go negative has
//   capture_not_posted     a captured session without exactly one posted capture of its captured amount
//   void_not_recorded      a voided session without the void of its authorisation
//   pending_left_open      a session in a final state with its authorisation still reserved
//   not_reserved           an authorised session whose authorisation reserved nothing
//   transfer_disagrees     a capture or void recorded for a session whose status says otherwise
//   refund_not_recorded    a refund without its transfer (or a succeeded one without its payment), or
//                          a session whose refund transfers do not add up to its refunded amount
//   dispute_not_reserved   a dispute without its opening transfer (available → dispute_reserve) of its amount
//   dispute_not_closed     a won or lost dispute without its closing transfer of its amount, or a closing
//                          transfer that disagrees with the dispute's status
//   payout_not_recorded    a payout without its one transfer available → paid_out of its amount, a
//                          failed one without its reversal, or a reversal of one that is not failed
import { sql } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';

/** One difference found. */
export interface LedgerFinding {
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

/** What was checked, and every difference found. */
export interface LedgerReport {
  readonly accounts: number;
  readonly transfers: number;
  readonly sessions: number;
  readonly findings: LedgerFinding[];
}

type Row = { subject: string; detail: string };

const checks: Record<string, ReturnType<typeof sql>> = {
  transfer_invalid: sql`
    select t.id as subject,
      case when da.currency <> t.currency or ca.currency <> t.currency then 'currency differs from its accounts'
           when p.id is null or p.phase <> 'pending' then 'resolves no pending transfer'
           when p.debit_account_id <> t.debit_account_id or p.credit_account_id <> t.credit_account_id then 'accounts differ from its pending transfer'
           else 'amount ' || t.amount_minor || ' against pending ' || p.amount_minor end as detail
    from ledger_transfers t
    join ledger_accounts da on da.id = t.debit_account_id
    join ledger_accounts ca on ca.id = t.credit_account_id
    left join ledger_transfers p on p.id = t.pending_id
    where da.currency <> t.currency or ca.currency <> t.currency
       or (t.phase in ('post', 'void') and (p.id is null or p.phase <> 'pending'
           or p.debit_account_id <> t.debit_account_id or p.credit_account_id <> t.credit_account_id
           or (t.phase = 'post' and t.amount_minor > p.amount_minor)
           or (t.phase = 'void' and t.amount_minor <> p.amount_minor)))`,
  currency_unbalanced: sql`
    select currency as subject,
      'posted debits - credits = ' || sum(debits_posted - credits_posted) || ', pending = ' || sum(debits_pending - credits_pending) as detail
    from ledger_accounts group by currency
    having sum(debits_posted - credits_posted) <> 0 or sum(debits_pending - credits_pending) <> 0`,
  balance_mismatch: sql`
    with open_pending as (
      select p.* from ledger_transfers p
      where p.phase = 'pending' and not exists (select 1 from ledger_transfers r where r.pending_id = p.id)
    ), moves as (
      select debit_account_id as acct, amount_minor as dpost, 0::bigint as dpend, 0::bigint as cpost, 0::bigint as cpend
        from ledger_transfers where phase in ('single', 'post')
      union all select credit_account_id, 0, 0, amount_minor, 0 from ledger_transfers where phase in ('single', 'post')
      union all select debit_account_id, 0, amount_minor, 0, 0 from open_pending
      union all select credit_account_id, 0, 0, 0, amount_minor from open_pending
    ), derived as (
      select acct, sum(dpost) as dpost, sum(dpend) as dpend, sum(cpost) as cpost, sum(cpend) as cpend from moves group by acct
    )
    select a.id as subject,
      'stored debits ' || a.debits_pending || '/' || a.debits_posted || ' credits ' || a.credits_pending || '/' || a.credits_posted
      || ' (pending/posted), transfers give ' || coalesce(d.dpend, 0) || '/' || coalesce(d.dpost, 0) || ' and '
      || coalesce(d.cpend, 0) || '/' || coalesce(d.cpost, 0) as detail
    from ledger_accounts a left join derived d on d.acct = a.id
    where a.debits_posted <> coalesce(d.dpost, 0) or a.debits_pending <> coalesce(d.dpend, 0)
       or a.credits_posted <> coalesce(d.cpost, 0) or a.credits_pending <> coalesce(d.cpend, 0)`,
  limit_broken: sql`
    select id as subject, 'debits ' || (debits_pending + debits_posted) || ', credits ' || (credits_pending + credits_posted) as detail
    from ledger_accounts
    where (debits_must_not_exceed_credits and debits_pending + debits_posted > credits_posted)
       or (credits_must_not_exceed_debits and credits_pending + credits_posted > debits_posted)`,
  capture_not_posted: sql`
    select s.id as subject,
      'captured ' || s.captured_minor || ', ' || count(t.id) || ' posted capture(s) of ' || coalesce(sum(t.amount_minor), 0) as detail
    from payment_sessions s
    left join ledger_transfers t on t.session_id = s.id and t.phase = 'post'
    where s.status in ('captured', 'partially_refunded', 'refunded')
    group by s.id, s.captured_minor
    having count(t.id) <> 1 or coalesce(sum(t.amount_minor), 0) <> s.captured_minor`,
  void_not_recorded: sql`
    select s.id as subject, 'voided (' || coalesce(s.void_reason, 'no reason') || ') with no void transfer' as detail
    from payment_sessions s
    where s.status = 'voided'
      and not exists (select 1 from ledger_transfers t where t.session_id = s.id and t.phase = 'void')`,
  pending_left_open: sql`
    select s.id as subject, s.status || ' with pending transfer ' || p.id || ' still open' as detail
    from payment_sessions s
    join ledger_transfers p on p.session_id = s.id and p.phase = 'pending'
    where s.status not in ('created', 'processing', 'requires_approval', 'authorized')
      and not exists (select 1 from ledger_transfers r where r.pending_id = p.id)`,
  not_reserved: sql`
    select s.id as subject, 'authorized with no pending transfer' as detail
    from payment_sessions s
    where s.status = 'authorized'
      and not exists (select 1 from ledger_transfers p where p.session_id = s.id and p.phase = 'pending')`,
  transfer_disagrees: sql`
    select t.id as subject, t.phase || ' recorded for a session ' || s.status as detail
    from ledger_transfers t join payment_sessions s on s.id = t.session_id
    where (t.phase = 'post' and s.status not in ('captured', 'partially_refunded', 'refunded'))
       or (t.phase = 'void' and s.status <> 'voided')`,
  refund_not_recorded: sql`
    select r.id as subject, r.status || ' refund of ' || r.amount_minor || ': ' ||
      case when rt.id is null then 'no refund transfer' when rt.amount_minor <> r.amount_minor then 'refund transfer of ' || rt.amount_minor
           else 'no refund_paid transfer' end as detail
    from refunds r
    left join ledger_transfers rt on rt.id = 'refund_' || r.id
    left join ledger_transfers pt on pt.id = 'refund_paid_' || r.id
    where rt.id is null or rt.amount_minor <> r.amount_minor
       or (r.status = 'succeeded' and (pt.id is null or pt.amount_minor <> r.amount_minor))
    union all
    select s.id, 'refunded ' || s.refunded_minor || ', refund transfers ' || coalesce(sum(t.amount_minor), 0)
    from payment_sessions s
    left join ledger_transfers t on t.session_id = s.id and t.kind = 'refund'
    where s.refunded_minor > 0
    group by s.id, s.refunded_minor
    having coalesce(sum(t.amount_minor), 0) <> s.refunded_minor`,
  dispute_not_reserved: sql`
    select d.id as subject, d.status || ' dispute of ' || d.amount_minor || ': ' ||
      case when t.id is null then 'no dispute_open transfer' else 'dispute_open transfer of ' || t.amount_minor end as detail
    from disputes d left join ledger_transfers t on t.id = 'dispute_open_' || d.id
    where t.id is null or t.amount_minor <> d.amount_minor`,
  dispute_not_closed: sql`
    select d.id as subject, d.status || ' dispute of ' || d.amount_minor || ': ' ||
      case when d.status = 'won' and (w.id is null or w.amount_minor <> d.amount_minor) then 'no dispute_won transfer of its amount'
           when d.status = 'lost' and (l.id is null or l.amount_minor <> d.amount_minor) then 'no dispute_lost transfer of its amount'
           else 'a closing transfer its status does not allow' end as detail
    from disputes d
    left join ledger_transfers w on w.id = 'dispute_won_' || d.id
    left join ledger_transfers l on l.id = 'dispute_lost_' || d.id
    where (d.status = 'won' and (w.id is null or w.amount_minor <> d.amount_minor or l.id is not null))
       or (d.status = 'lost' and (l.id is null or l.amount_minor <> d.amount_minor or w.id is not null))
       or (d.status in ('needs_response', 'under_review') and (w.id is not null or l.id is not null))`,
  payout_not_recorded: sql`
    select p.id as subject, p.status || ' payout of ' || p.amount_minor || ': ' ||
      case when t.id is null then 'no payout transfer'
           when t.amount_minor <> p.amount_minor or t.kind <> 'payout' then 'payout transfer of ' || t.amount_minor
           when p.status = 'failed' and r.id is null then 'failed without its reversal'
           when p.status <> 'failed' and r.id is not null then 'reversed though ' || p.status
           else 'reversal of ' || r.amount_minor end as detail
    from payouts p
    left join ledger_transfers t on t.id = 'payout_' || p.id
    left join ledger_transfers r on r.id = 'payout_reversal_' || p.id
    where t.id is null or t.amount_minor <> p.amount_minor or t.kind <> 'payout'
       or (p.status = 'failed') <> (r.id is not null)
       or (r.id is not null and r.amount_minor <> p.amount_minor)
    union all
    select t.id, 'payout transfer for no payout'
    from ledger_transfers t
    where t.kind in ('payout', 'payout_reversal')
      and not exists (select 1 from payouts p where p.id = regexp_replace(t.id, '^payout_(reversal_)?', ''))`,
};

/** Runs every check over the whole ledger (every merchant): the operator's view, never a merchant's. */
export async function verifyLedger(db: Executor): Promise<LedgerReport> {
  const findings: LedgerFinding[] = [];
  for (const [check, query] of Object.entries(checks)) {
    for (const r of await rows<Row>(db, query)) findings.push({ check, subject: r.subject, detail: r.detail });
  }
  const [counts] = await rows<{ accounts: number; transfers: number; sessions: number }>(
    db,
    sql`select (select count(*)::int from ledger_accounts) as accounts,
               (select count(*)::int from ledger_transfers) as transfers,
               (select count(*)::int from payment_sessions) as sessions`,
  );
  return { accounts: counts!.accounts, transfers: counts!.transfers, sessions: counts!.sessions, findings };
}

/** Every posted capture, with its session's merchant: the gateway's side of the three-way match. */
export async function gatewayCaptures(
  db: Executor,
): Promise<{ sessionId: string; merchantId: string; amountMinor: bigint; currency: string }[]> {
  const found = await rows<{ session_id: string; merchant_id: string; amount_minor: string; currency: string }>(
    db,
    sql`select t.session_id, s.merchant_id, t.amount_minor::text as amount_minor, t.currency
          from ledger_transfers t join payment_sessions s on s.id = t.session_id
         where t.phase = 'post' and t.kind = 'capture'
         order by t.session_id`,
  );
  return found.map((r) => ({
    sessionId: r.session_id,
    merchantId: r.merchant_id,
    amountMinor: BigInt(r.amount_minor),
    currency: r.currency,
  }));
}
