// The checks every ledger's books must pass, whatever they record (read-only, one query per check,
// each returning the differences it finds — nothing when the books are right):
//
//   transfer_invalid       a transfer in another currency than its accounts, or a post or void that does
//                          not match its pending transfer (the balance of each transfer holds by its shape)
//   currency_unbalanced    the sum of all accounts' debits minus credits, per currency, is not zero
//   balance_mismatch       an account's stored totals differ from the sum of its transfers
//   limit_broken           an account that must not go negative has (`limitBroken`: the book's own flags)
//
// Each ledger adds the checks of what it records (the gateway's sessions, the bank's authorisations).
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Executor } from '../db/database.ts';

/** One difference found. */
export interface LedgerFinding {
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

/** The four checks of a book's shape. Table names are constants; `limitBroken` is a condition on an account row. */
export function bookChecks(tables: { accounts: string; transfers: string; limitBroken: SQL }): Record<string, SQL> {
  const accounts = sql.identifier(tables.accounts);
  const transfers = sql.identifier(tables.transfers);
  const open = sql`(p.phase = 'pending' and not exists (select 1 from ${transfers} r where r.pending_id = p.id))`;
  return {
    transfer_invalid: sql`
      select t.id as subject,
        case when da.currency <> t.currency or ca.currency <> t.currency then 'currency differs from its accounts'
             when p.id is null or p.phase <> 'pending' then 'resolves no pending transfer'
             when p.debit_account_id <> t.debit_account_id or p.credit_account_id <> t.credit_account_id then 'accounts differ from its pending transfer'
             else 'amount ' || t.amount_minor || ' against pending ' || p.amount_minor end as detail
      from ${transfers} t
      join ${accounts} da on da.id = t.debit_account_id
      join ${accounts} ca on ca.id = t.credit_account_id
      left join ${transfers} p on p.id = t.pending_id
      where da.currency <> t.currency or ca.currency <> t.currency
         or (t.phase in ('post', 'void') and (p.id is null or p.phase <> 'pending'
             or p.debit_account_id <> t.debit_account_id or p.credit_account_id <> t.credit_account_id
             or (t.phase = 'post' and t.amount_minor > p.amount_minor)
             or (t.phase = 'void' and t.amount_minor <> p.amount_minor)))`,
    currency_unbalanced: sql`
      select currency as subject,
        'posted debits - credits = ' || sum(debits_posted - credits_posted) || ', pending = ' || sum(debits_pending - credits_pending) as detail
      from ${accounts} group by currency
      having sum(debits_posted - credits_posted) <> 0 or sum(debits_pending - credits_pending) <> 0`,
    balance_mismatch: sql`
      with moves as (
        select debit_account_id as acct, amount_minor as dpost, 0::bigint as dpend, 0::bigint as cpost, 0::bigint as cpend
          from ${transfers} where phase in ('single', 'post')
        union all select credit_account_id, 0, 0, amount_minor, 0 from ${transfers} where phase in ('single', 'post')
        union all select p.debit_account_id, 0, p.amount_minor, 0, 0 from ${transfers} p where ${open}
        union all select p.credit_account_id, 0, 0, 0, p.amount_minor from ${transfers} p where ${open}
      ), derived as (
        select acct, sum(dpost) as dpost, sum(dpend) as dpend, sum(cpost) as cpost, sum(cpend) as cpend from moves group by acct
      )
      select a.id as subject,
        'stored debits ' || a.debits_pending || '/' || a.debits_posted || ' credits ' || a.credits_pending || '/' || a.credits_posted
        || ' (pending/posted), transfers give ' || coalesce(d.dpend, 0) || '/' || coalesce(d.dpost, 0) || ' and '
        || coalesce(d.cpend, 0) || '/' || coalesce(d.cpost, 0) as detail
      from ${accounts} a left join derived d on d.acct = a.id
      where a.debits_posted <> coalesce(d.dpost, 0) or a.debits_pending <> coalesce(d.dpend, 0)
         or a.credits_posted <> coalesce(d.cpost, 0) or a.credits_pending <> coalesce(d.cpend, 0)`,
    limit_broken: sql`
      select id as subject, 'debits ' || (debits_pending + debits_posted) || ', credits ' || (credits_pending + credits_posted) as detail
      from ${accounts} where ${tables.limitBroken}`,
  };
}

/** Runs the checks in order; returns every difference found. */
export async function runChecks(db: Executor, checks: Record<string, SQL>): Promise<LedgerFinding[]> {
  const findings: LedgerFinding[] = [];
  for (const [check, query] of Object.entries(checks)) {
    for (const r of await rows<{ subject: string; detail: string }>(db, query))
      findings.push({ check, subject: r.subject, detail: r.detail });
  }
  return findings;
}
