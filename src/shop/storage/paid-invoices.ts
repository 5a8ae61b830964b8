// The shop's side of the operator's three-way match (`countersign ledger verify`): every invoice the
// shop holds as paid (paid, or paid then refunded or disputed: the capture stands until money moves
// back by a refund or a lost dispute, each in its own books), with the gateway session its paid attempt names.
import { sql } from 'drizzle-orm';
import { rows, type Executor } from '../../platform/db/database.ts';

/** Paid invoices and the gateway session of the attempt that paid each (null when none names one). */
export async function paidInvoices(
  db: Executor,
): Promise<{ invoiceId: string; sessionId: string | null; amountMinor: bigint; currency: string }[]> {
  const found = await rows<{ id: string; session_id: string | null; amount_minor: string; currency: string }>(
    db,
    sql`select i.id, a.gateway_session_id as session_id, i.amount_minor::text as amount_minor, i.currency
          from invoices i
          left join payment_attempts a on a.invoice_id = i.id and a.status in ('paid', 'captured', 'refunded')
         where i.status in ('paid', 'refunded', 'disputed', 'dispute_lost')
         order by i.id`,
  );
  return found.map((r) => ({
    invoiceId: r.id,
    sessionId: r.session_id,
    amountMinor: BigInt(r.amount_minor),
    currency: r.currency,
  }));
}

/** Every gateway session the shop's payment attempts name (paid or not): which merchant the shop is at the gateway. */
export async function attemptSessions(db: Executor): Promise<string[]> {
  const found = await rows<{ id: string }>(
    db,
    sql`select distinct gateway_session_id as id from payment_attempts where gateway_session_id is not null`,
  );
  return found.map((r) => r.id);
}
