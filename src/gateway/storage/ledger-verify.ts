// `ledger verify`: the operator's check of the gateway's books, across every merchant, read-only.
// Each check is one query that returns the differences it finds (nothing when the books are right):
// first the checks every book passes (src/platform/ledger/verify.ts: transfer_invalid,
// currency_unbalanced, balance_mismatch, limit_broken), then those of what the gateway records:
//
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
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';
import { bookChecks, runChecks, type LedgerFinding } from '../../platform/ledger/verify.ts';

/** What was checked, and every difference found. */
export interface LedgerReport {
  readonly accounts: number;
  readonly transfers: number;
  readonly sessions: number;
  readonly findings: LedgerFinding[];
}

const checks: Record<string, SQL> = {
  ...bookChecks({
    accounts: 'ledger_accounts',
    transfers: 'ledger_transfers',
    limitBroken: sql`(debits_must_not_exceed_credits and debits_pending + debits_posted > credits_posted)
       or (credits_must_not_exceed_debits and credits_pending + credits_posted > debits_posted)`,
  }),
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
  const findings = await runChecks(db, checks);
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
