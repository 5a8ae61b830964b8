// The bank's side of `countersign ledger verify`: its books checked on their own (read-only, one query
// per check, each listing the differences it finds), and its captures for the three-way match. First
// the checks every book passes (src/platform/ledger/verify.ts: transfer_invalid, currency_unbalanced,
// balance_mismatch, limit_broken — here a cardholder's or a merchant's account negative), then those
// of what the bank records:
//
//   account_disagrees      a cardholder account's balance or held amount differs from its ledger account
//   capture_not_posted     an authorisation's captured amount differs from its posted capture
//   hold_left_open         an authorisation that holds nothing while its hold is still reserved, or the reverse
//   refund_not_recorded    a refund without its transfer of its amount
//   chargeback_not_settled a dispute without its chargeback of its amount, a won one whose reversal and
//                          write-off do not make up that amount, or a dispute not won with either
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';
import { bookChecks, runChecks, type LedgerFinding } from '../../platform/ledger/verify.ts';

const open = sql`(p.phase = 'pending' and not exists (select 1 from bank_ledger_transfers r where r.pending_id = p.id))`;

const checks: Record<string, SQL> = {
  ...bookChecks({
    accounts: 'bank_ledger_accounts',
    transfers: 'bank_ledger_transfers',
    limitBroken: sql`never_negative and debits_pending + debits_posted > credits_posted`,
  }),
  account_disagrees: sql`
    select a.id as subject,
      'balance ' || a.balance_minor || ' held ' || a.held_minor || ', ledger ' ||
      coalesce(l.credits_posted - l.debits_posted, 0) || ' held ' || coalesce(l.debits_pending, 0) as detail
    from accounts a left join bank_ledger_accounts l on l.id = 'cardholder:' || a.id || ':' || a.currency
    where a.balance_minor <> coalesce(l.credits_posted - l.debits_posted, 0) or a.held_minor <> coalesce(l.debits_pending, 0)`,
  capture_not_posted: sql`
    select a.id as subject, 'captured ' || a.captured_minor || ', posted ' || coalesce(c.amount_minor, 0) as detail
    from authorizations a left join bank_ledger_transfers c on c.id = 'capture_' || a.id
    where a.captured_minor <> coalesce(c.amount_minor, 0)`,
  hold_left_open: sql`
    select a.id as subject, a.status || ' holding ' || a.held_minor || ', reserved ' || coalesce(p.amount_minor, 0) as detail
    from authorizations a
    left join bank_ledger_transfers p on p.id = 'hold_' || a.id and ${open}
    where a.held_minor <> coalesce(p.amount_minor, 0)`,
  chargeback_not_settled: sql`
    select d.id as subject,
      d.status || ' dispute of ' || d.amount_minor || ': chargeback ' || coalesce(c.amount_minor, 0) ||
      ', taken back ' || coalesce(r.amount_minor, 0) || ', written off ' || coalesce(w.amount_minor, 0) as detail
    from disputes d
    left join bank_ledger_transfers c on c.id = 'chargeback_' || d.id
    left join bank_ledger_transfers r on r.id = 'chargeback_reversal_' || d.id
    left join bank_ledger_transfers w on w.id = 'chargeback_writeoff_' || d.id
    where coalesce(c.amount_minor, 0) <> d.amount_minor
       or case when d.status = 'won' then coalesce(r.amount_minor, 0) + coalesce(w.amount_minor, 0) <> d.amount_minor
               else r.id is not null or w.id is not null end`,
  refund_not_recorded: sql`
    select r.id as subject, 'refund of ' || r.amount_minor || ', transfer ' || coalesce(t.amount_minor, 0) as detail
    from bank_refunds r left join bank_ledger_transfers t on t.id = 'refund_' || r.id
    where t.id is null or t.amount_minor <> r.amount_minor`,
};

/** Runs every check over the bank's books: the operator's view. */
export async function verifyBankLedger(
  db: Executor,
): Promise<{ accounts: number; transfers: number; findings: LedgerFinding[] }> {
  const findings = await runChecks(db, checks);
  const [counts] = await rows<{ accounts: number; transfers: number }>(
    db,
    sql`select (select count(*)::int from bank_ledger_accounts) as accounts,
               (select count(*)::int from bank_ledger_transfers) as transfers`,
  );
  return { accounts: counts!.accounts, transfers: counts!.transfers, findings };
}

/** Every posted capture (a cardholder debited), by the gateway's reference: the bank's side of the three-way match. */
export async function bankCaptures(
  db: Executor,
): Promise<{ gatewayRef: string; amountMinor: bigint; currency: string }[]> {
  const found = await rows<{ gateway_ref: string; amount_minor: string; currency: string }>(
    db,
    sql`select a.gateway_ref, t.amount_minor::text as amount_minor, t.currency
          from bank_ledger_transfers t join authorizations a on a.id = t.ref
         where t.kind = 'capture' and t.phase = 'post'
         order by a.gateway_ref`,
  );
  return found.map((r) => ({ gatewayRef: r.gateway_ref, amountMinor: BigInt(r.amount_minor), currency: r.currency }));
}
