// What the gateway's payment tests do over and over: open a session through the API, submit a card
// on the hosted page's endpoint, read the authoritative session, and wait for it to settle.
import assert from 'node:assert/strict';
import { eventually, type startTestGateway } from '../../src/gateway/testing.ts';
import { APPROVED_CARD, cardDetails } from './factories.ts';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

export const PAN = APPROVED_CARD;

/** A card body for the hosted page's authorize endpoint. */
export const card = (number = PAN) => cardDetails(number, { cvc: '987', name: 'A Payer' });

/** Session helpers bound to a gateway that a `before` hook starts (hence the getter). */
export function sessionHelpers(gateway: () => TestGateway, referencePrefix: string) {
  let n = 0;
  const session = async (id: string) =>
    (await (await gateway().api(`/v1/payment_sessions/${id}`)).json()) as Record<string, unknown> & { status: string };
  return {
    async newSession(): Promise<string> {
      const res = await gateway().api('/v1/payment_sessions', {
        body: {
          amount: { minor: '2500', currency: 'EUR' },
          merchant_reference: `inv_${referencePrefix}_${++n}`,
          description: 'Test order',
          return_url: 'http://shop.test/r',
        },
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { id: string }).id;
    },
    pay: (id: string, body: unknown = card()) =>
      fetch(`${gateway().url}/pay/${id}/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    session,
    settled: (id: string, ms = 15_000) =>
      eventually(
        async () => {
          const s = await session(id);
          return ['captured', 'voided', 'declined'].includes(s.status) ? s : undefined;
        },
        ms,
        `session ${id} to settle`,
      ),
  };
}
