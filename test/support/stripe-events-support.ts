// For the Stripe events and webhook tests: the system of test/support/stripe-gateway.ts (real bank,
// real gateway, the official SDK for the demo merchant and another), a Checkout Session paid on the
// hosted page, and a merchant's webhook receiver that verifies every delivery with
// `stripe.webhooks.constructEvent` and keeps the exact bytes.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type Stripe from 'stripe';
import { cardDetails, APPROVED_CARD } from './factories.ts';
import { startStripeSystem } from './stripe-gateway.ts';

/** The bank and the gateway (test/support/stripe-gateway.ts), with the SDK for the demo merchant and another. */
export const startStripeGateway = startStripeSystem;

/** A Checkout Session (manual capture unless told) paid with a card on the hosted page; its cs_ and pi_ ids. */
export async function paidCheckout(
  stripe: Stripe,
  gatewayUrl: string,
  options: { capture?: 'manual' | 'automatic'; amount?: number; card?: string } = {},
) {
  const cs = await stripe.checkout.sessions.create({
    mode: 'payment',
    line_items: [
      {
        price_data: { currency: 'eur', product_data: { name: 'A mug' }, unit_amount: options.amount ?? 1999 },
        quantity: 1,
      },
    ],
    payment_intent_data: { capture_method: options.capture ?? 'manual' },
    success_url: 'http://127.0.0.1:9/success',
    cancel_url: 'http://127.0.0.1:9/cancel',
  });
  const sessionId = `ps_${cs.id.slice(3)}`;
  const paid = await fetch(`${gatewayUrl}/pay/${sessionId}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(cardDetails(options.card ?? APPROVED_CARD, { name: 'A Payer' })),
  });
  if (paid.status !== 200) throw new Error(`hosted page answered ${paid.status}: ${await paid.text()}`);
  return { cs: cs.id, pi: `pi_${cs.id.slice(3)}`, sessionId };
}

export interface VerifiedDelivery {
  readonly event: Stripe.Event;
  readonly body: string;
  readonly signature: string;
  readonly at: number;
}

/** A merchant's webhook receiver: each delivery checked with constructEvent against `secrets()`. */
export async function stripeReceiver(stripe: Stripe) {
  const verified: VerifiedDelivery[] = [];
  const refused: { body: string; signature: string; error: string }[] = [];
  let secret = '';
  let respond: (d: VerifiedDelivery, res: ServerResponse) => void = (_d, res) => res.writeHead(200).end('{}');
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['stripe-signature'] ?? '');
      try {
        const event = stripe.webhooks.constructEvent(body, signature, secret);
        const d = { event, body, signature, at: Date.now() };
        verified.push(d);
        respond(d, res);
      } catch (err) {
        refused.push({ body, signature, error: String(err) });
        res.writeHead(400).end('bad signature');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    verified,
    refused,
    setSecret(s: string) {
      secret = s;
    },
    setRespond(fn: typeof respond) {
      respond = fn;
    },
    /** Verified events about one PaymentIntent / Checkout Session (by our session id's body). */
    eventsAbout(sessionId: string): Stripe.Event[] {
      const body = sessionId.slice(3);
      return verified
        .map((d) => d.event)
        .filter((e) => String((e.data.object as { id?: string }).id ?? '').endsWith(body));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
