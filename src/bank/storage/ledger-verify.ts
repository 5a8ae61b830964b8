// The bank's side of `countersign ledger verify`: its books checked on their own (read-only, one query
// per check, each listing the differences it finds), and its captures for the three-way match.
//
//   transfer_invalid       a transfer in another currency than its accounts, or a post or void that does
//                          not match its pending transfer
//   currency_unbalanced    the sum of all accounts' debits minus credits, per currency, is not zero
//   balance_mismatch       an account's stored totals differ from the sum of its transfers
//   limit_broken           a never-negative account (a cardholder's, a merchant's) is negative
//   account_disagrees      a cardholder account's balance or held amount differs from its ledger account
//   capture_not_posted     an authorisation's captured amount differs from its posted capture
//   hold_left_open         an authorisation that holds nothing while its hold is still reserved, or the reverse
//   refund_not_recorded    a refund without its transfer of its amount
import { sql } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';

export interface BankLedgerFinding {
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

type Row = { subject: string; detail: string };

const open = sql`(p.phase = 'pending' and not exists (select 1 from bank_ledger_transfers r where r.pending_id = p.id))`;

const checks: Record<string, ReturnType<typeof sql>> = {
  transfer_invalid: sql`
    select t.id as subject, 'currency or pending transfer does not match' as detail
    from bank_ledger_transfers t
    join bank_ledger_accounts da on da.id = t.debit_account_id
    join bank_ledger_accounts ca on ca.id = t.credit_account_id
    left join bank_ledger_transfers p on p.id = t.pending_id
    where da.currency <> t.currency or ca.currency <> t.currency
       or (t.phase in ('post', 'void') and (p.id is null or p.phase <> 'pending'
           or p.debit_account_id <> t.debit_account_id or p.credit_account_id <> t.credit_account_id
           or (t.phase = 'post' and t.amount_minor > p.amount_minor)
           or (t.phase = 'void' and t.amount_minor <> p.amount_minor)))`,
  currency_unbalanced: sql`
    select currency as subject,
      'posted debits - credits = ' || sum(debits_posted - credits_posted) || ', pending = ' || sum(debits_pending - credits_pending) as detail
    from bank_ledger_accounts group by currency
    having sum(debits_posted - credits_posted) <> 0 or sum(debits_pending - credits_pending) <> 0`,
  balance_mismatch: sql`
    with moves as (
      select debit_account_id as acct, amount_minor as dpost, 0::bigint as dpend, 0::bigint as cpost, 0::bigint as cpend
        from bank_ledger_transfers where phase in ('single', 'post')
      union all select credit_account_id, 0, 0, amount_minor, 0 from bank_ledger_transfers where phase in ('single', 'post')
      union all select p.debit_account_id, 0, p.amount_minor, 0, 0 from bank_ledger_transfers p where ${open}
      union all select p.credit_account_id, 0, 0, 0, p.amount_minor from bank_ledger_transfers p where ${open}
    ), derived as (
      select acct, sum(dpost) as dpost, sum(dpend) as dpend, sum(cpost) as cpost, sum(cpend) as cpend from moves group by acct
    )
    select a.id as subject,
      'stored ' || a.debits_pending || '/' || a.debits_posted || '/' || a.credits_pending || '/' || a.credits_posted
      || ', transfers give ' || coalesce(d.dpend, 0) || '/' || coalesce(d.dpost, 0) || '/' || coalesce(d.cpend, 0) || '/' || coalesce(d.cpost, 0) as detail
    from bank_ledger_accounts a left join derived d on d.acct = a.id
    where a.debits_posted <> coalesce(d.dpost, 0) or a.debits_pending <> coalesce(d.dpend, 0)
       or a.credits_posted <> coalesce(d.cpost, 0) or a.credits_pending <> coalesce(d.cpend, 0)`,
  limit_broken: sql`
    select id as subject, 'debits ' || (debits_pending + debits_posted) || ', credits ' || credits_posted as detail
    from bank_ledger_accounts where never_negative and debits_pending + debits_posted > credits_posted`,
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
  refund_not_recorded: sql`
    select r.id as subject, 'refund of ' || r.amount_minor || ', transfer ' || coalesce(t.amount_minor, 0) as detail
    from bank_refunds r left join bank_ledger_transfers t on t.id = 'refund_' || r.id
    where t.id is null or t.amount_minor <> r.amount_minor`,
};

/** Runs every check over the bank's books: the operator's view. */
export async function verifyBankLedger(
  db: Executor,
): Promise<{ accounts: number; transfers: number; findings: BankLedgerFinding[] }> {
  const findings: BankLedgerFinding[] = [];
  for (const [check, query] of Object.entries(checks)) {
    for (const r of await rows<Row>(db, query)) findings.push({ check, subject: r.subject, detail: r.detail });
  }
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
