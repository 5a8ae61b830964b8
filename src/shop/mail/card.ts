// The card that paid an invoice, as the gateway keeps it (brand and last four). The shop never sees
// card details itself: the gateway's news names the card and the intake keeps it on the attempt; when
// it did not (Stripe's events, an attempt paid before the news carried it), the receipt asks the
// gateway for the session that paid.
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import type { CardShown, GatewayPort } from '../domain/gateway.port.ts';
import { paymentAttempts } from '../storage/tables.ts';

export type { CardShown } from '../domain/gateway.port.ts';

// Every receipt runs it: built once (builtOnce).
const paidAttempt = builtOnce((on) =>
  on
    .select({
      sessionId: paymentAttempts.gatewaySessionId,
      brand: paymentAttempts.cardBrand,
      last4: paymentAttempts.cardLast4,
    })
    .from(paymentAttempts)
    .where(
      and(
        eq(paymentAttempts.invoiceId, slot('invoiceId', paymentAttempts.invoiceId)),
        inArray(paymentAttempts.status, ['paid', 'captured', 'refunded']),
        isNotNull(paymentAttempts.gatewaySessionId),
      ),
    )
    .limit(1)
    .prepare('receipt_paid_attempt'),
);

/**
 * The brand and last four of the card that paid the invoice, as kept on the attempt or else asked of
 * the gateway; undefined when no attempt of the invoice was paid, or the card is not kept and there is
 * no gateway to ask. Throws when the gateway has to be asked and cannot be (the caller decides: the
 * mail job retries, the PDF download goes without).
 */
export async function cardThatPaid(
  db: Executor,
  gateway: GatewayPort | undefined,
  invoiceId: string,
): Promise<CardShown | undefined> {
  const [attempt] = await paidAttempt(db).execute({ invoiceId });
  if (!attempt?.sessionId) return undefined;
  if (attempt.brand && attempt.last4) return { brand: attempt.brand, last4: attempt.last4 };
  if (!gateway) return undefined;
  const session = await gateway.getSession(attempt.sessionId);
  return session.card ? { brand: session.card.brand, last4: session.card.last4 } : undefined;
}
