// Another cardholder of the bank (with a card and an account of their own), logged in.
import type { ServiceHandle } from '../../src/platform/service.ts';
import { createCardholder } from '../../src/bank/storage/seed-demo.ts';
import { logIn, randomCardNumber } from '../../src/bank/testing.ts';
import { systemClock } from '../../src/platform/clock.ts';

/** Creates a cardholder in the bank's database and logs them in. */
export async function createTestCardholderIn(bankUrl: string, bank: ServiceHandle) {
  const email = `stranger-${Math.random().toString(36).slice(2, 10)}@bank.test`;
  const password = 'correct horse battery staple';
  await bank.database.transaction((tx) =>
    createCardholder(
      tx,
      {
        email,
        password,
        name: 'A Stranger',
        accounts: [{ name: 'Current account', balanceMinor: 100_000n }],
        cards: [{ number: randomCardNumber(), account: 0, label: 'Stranger card', policy: 'standard' }],
      },
      systemClock.now(),
    ),
  );
  return logIn(bankUrl, email, password);
}
