/**
 * The three-way match of a card payment's money (pure): the shop's paid invoices, the gateway's
 * captures (its posted capture transfers) and the bank's captures (its posted debits of the
 * cardholder), joined on the gateway's payment session id — the shop keeps it on the payment
 * attempt (a Stripe-dialect shop keeps the `cs_…`/`pi_…` view of it, read back as `ps_…`), the bank
 * as the authorisation's gateway reference. Every difference is listed, saying which party has what.
 *
 * The shop side is one merchant's (the shop's); the gateway's captures are matched against it only
 * for the merchants the shop's payment attempts name, so another merchant's payments at the same gateway are
 * not the shop's business. Every gateway capture, of any merchant, is matched against the bank.
 */

/** A paid invoice at the shop, with the gateway session its paid attempt names (null: none). */
export interface ShopPaid {
  readonly invoiceId: string;
  readonly sessionId: string | null;
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** A posted capture at the gateway. */
export interface GatewayCapture {
  readonly sessionId: string;
  readonly merchantId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** A posted capture (the cardholder debited) at the bank, by the gateway's reference. */
export interface BankCapture {
  readonly gatewayRef: string;
  readonly amountMinor: bigint;
  readonly currency: string;
}

export interface MatchFinding {
  readonly check: string;
  readonly subject: string;
  readonly detail: string;
}

/** The gateway's session id behind an id the shop keeps (a Stripe Checkout Session or PaymentIntent id is a view of ps_X). */
export function gatewaySessionId(id: string): string {
  return /^(cs|pi|ch)_/.test(id) ? `ps_${id.slice(3)}` : id;
}

const show = (minor: bigint, currency: string) => `${minor} ${currency}`;

/**
 * Shop ⇔ gateway: every paid invoice captured for its amount, every capture of the shop's merchants
 * paid at the shop. The shop's merchants are those of the sessions its payment attempts name
 * (`attemptSessions`, every attempt's, paid or not).
 */
export function matchShopGateway(
  shop: readonly ShopPaid[],
  gateway: readonly GatewayCapture[],
  attemptSessions: readonly string[] = [],
): MatchFinding[] {
  const out: MatchFinding[] = [];
  const captures = new Map(gateway.map((g) => [g.sessionId, g]));
  const merchants = new Set<string>();
  for (const id of attemptSessions) {
    const g = captures.get(gatewaySessionId(id));
    if (g) merchants.add(g.merchantId);
  }
  const claimed = new Set<string>();
  for (const inv of shop) {
    if (inv.sessionId === null) {
      out.push({
        check: 'shop_paid_without_session',
        subject: inv.invoiceId,
        detail: 'paid at the shop, no paid attempt names a gateway session',
      });
      continue;
    }
    const sid = gatewaySessionId(inv.sessionId);
    const g = captures.get(sid);
    if (claimed.has(sid))
      out.push({ check: 'session_paid_twice', subject: sid, detail: `a second paid invoice ${inv.invoiceId}` });
    claimed.add(sid);
    if (!g) {
      out.push({
        check: 'shop_paid_not_captured',
        subject: inv.invoiceId,
        detail: `shop: paid ${show(inv.amountMinor, inv.currency)}; gateway: no capture of ${sid}`,
      });
      continue;
    }
    merchants.add(g.merchantId);
    if (g.amountMinor !== inv.amountMinor || g.currency !== inv.currency)
      out.push({
        check: 'shop_gateway_amount',
        subject: inv.invoiceId,
        detail: `shop: paid ${show(inv.amountMinor, inv.currency)}; gateway: captured ${show(g.amountMinor, g.currency)} (${sid})`,
      });
  }
  for (const g of gateway) {
    if (merchants.has(g.merchantId) && !claimed.has(g.sessionId))
      out.push({
        check: 'captured_not_paid_at_shop',
        subject: g.sessionId,
        detail: `gateway: captured ${show(g.amountMinor, g.currency)}; shop: no paid invoice`,
      });
  }
  return out;
}

/** Gateway ⇔ bank: every capture at the gateway is a debit of the cardholder at the bank for the same amount, and back. */
export function matchGatewayBank(gateway: readonly GatewayCapture[], bank: readonly BankCapture[]): MatchFinding[] {
  const out: MatchFinding[] = [];
  const debits = new Map(bank.map((b) => [b.gatewayRef, b]));
  const seen = new Set<string>();
  for (const g of gateway) {
    const b = debits.get(g.sessionId);
    seen.add(g.sessionId);
    if (!b)
      out.push({
        check: 'captured_not_at_bank',
        subject: g.sessionId,
        detail: `gateway: captured ${show(g.amountMinor, g.currency)}; bank: no capture`,
      });
    else if (b.amountMinor !== g.amountMinor || b.currency !== g.currency)
      out.push({
        check: 'gateway_bank_amount',
        subject: g.sessionId,
        detail: `gateway: captured ${show(g.amountMinor, g.currency)}; bank: debited ${show(b.amountMinor, b.currency)}`,
      });
  }
  for (const b of bank) {
    if (!seen.has(b.gatewayRef))
      out.push({
        check: 'bank_captured_not_at_gateway',
        subject: b.gatewayRef,
        detail: `bank: debited ${show(b.amountMinor, b.currency)}; gateway: no capture`,
      });
  }
  return out;
}
