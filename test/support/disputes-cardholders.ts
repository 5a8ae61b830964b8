// Another cardholder of the bank (with a card and an account of their own), logged in.
import type { ServiceHandle } from '../../src/platform/service.ts';
import { createCardholder } from '../../src/bank/storage/seed-demo.ts';
import { logIn, randomCardNumber } from '../../src/bank/testing.ts';
import { systemClock } from '../../src/platform/clock.ts';

/**
 * Creates a cardholder in the bank's database (one account, 1,000.00 EUR unless `balanceMinor` says
 * otherwise, and one card) and logs them in; with the card's number and the account's id.
 */
export async function createTestCardholderIn(
  bankUrl: string,
  bank: ServiceHandle,
  options: { balanceMinor?: bigint } = {},
) {
  const email = `stranger-${Math.random().toString(36).slice(2, 10)}@bank.test`;
  const password = 'correct horse battery staple';
  const cardNumber = randomCardNumber();
  const created = await bank.database.transaction((tx) =>
    createCardholder(
      tx,
      {
        email,
        password,
        name: 'A Stranger',
        accounts: [{ name: 'Current account', balanceMinor: options.balanceMinor ?? 100_000n }],
        cards: [{ number: cardNumber, account: 0, label: 'Stranger card', policy: 'standard' }],
      },
      systemClock.now(),
    ),
  );
  return { ...(await logIn(bankUrl, email, password)), cardNumber, created };
}
