// The demo cardholder, created idempotently at start (several nodes may start at once): owns every
// test card, expiry 12/2034, CVC 123. Large balance on the main account; the insufficient-funds
// card draws on an empty account of its own.
import { eq } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { TEST_CARDS, type TestCardBehaviour } from '../../core/test-cards.ts';
import type { Database, Executor } from '../../platform/db/database.ts';
import { hashPassword } from '../../platform/passwords.ts';
import { hashCvc, type CardPolicy } from '../domain/issuer-decision.ts';
import { bankTransfers } from '../domain/ledger.ts';
import { recordBankTransfers } from './ledger.ts';
import { accounts, cardholders, cards, movements } from './tables.ts';

export const DEMO_CARDHOLDER = Object.freeze({
  email: 'demo@bank.test',
  password: 'demo-bank-password',
  name: 'Demo Cardholder',
  expMonth: 12,
  expYear: 2034,
  cvc: '123',
  /** 1,000,000.00 EUR on the main account. */
  balanceMinor: 100_000_000n,
  /** The insufficient-funds card's account holds nothing. */
  lowBalanceMinor: 0n,
});

/** Seconds the `approval_timeout` card gives the cardholder, so demos and tests need not wait 2 min. */
export const SHORT_APPROVAL_TIMEOUT_SECONDS = 8;

function policyOf(behaviour: TestCardBehaviour): { policy: CardPolicy; approvalTimeoutSeconds: number | null } {
  switch (behaviour) {
    case 'declined':
      return { policy: 'decline', approvalTimeoutSeconds: null };
    case 'requires_approval':
      return { policy: 'approval', approvalTimeoutSeconds: null };
    case 'approval_timeout':
      return { policy: 'approval', approvalTimeoutSeconds: SHORT_APPROVAL_TIMEOUT_SECONDS };
    case 'processing_delay':
      return { policy: 'delayed', approvalTimeoutSeconds: null };
    // gateway_error never reaches the bank; issued anyway so that it is a real card here too.
    case 'approved':
    case 'insufficient_funds':
    case 'gateway_error':
      return { policy: 'standard', approvalTimeoutSeconds: null };
  }
}

export interface NewCardholder {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly accounts: readonly { name: string; balanceMinor: bigint; currency?: string }[];
  readonly cards: readonly {
    number: string;
    account: number;
    policy: CardPolicy;
    approvalTimeoutSeconds?: number | null;
    expMonth?: number;
    expYear?: number;
    cvc?: string;
    label: string;
  }[];
}

/** Creates a cardholder with accounts (opening movements) and cards; returns its id and account ids. */
export async function createCardholder(
  tx: Executor,
  input: NewCardholder,
  now: Date,
): Promise<{ id: string; accountIds: string[]; cardIds: string[] }> {
  const id = newId('chd', now);
  await tx.insert(cardholders).values({
    id,
    email: input.email,
    name: input.name,
    passwordHash: await hashPassword(input.password),
    createdAt: now,
  });
  const accountIds: string[] = [];
  for (const [index, account] of input.accounts.entries()) {
    const accountId = newId('acc', now);
    accountIds.push(accountId);
    await tx.insert(accounts).values({
      id: accountId,
      cardholderId: id,
      name: account.name,
      currency: account.currency ?? 'EUR',
      balanceMinor: account.balanceMinor,
      createdAt: new Date(now.getTime() + index),
    });
    await tx.insert(movements).values({
      id: newId('txn', now),
      accountId,
      kind: 'opening',
      amountMinor: account.balanceMinor,
      currency: account.currency ?? 'EUR',
      description: 'Opening balance',
      createdAt: now,
    });
    // The books: the opening balance comes from the bank's equity (an empty account needs no transfer).
    if (account.balanceMinor > 0n)
      await recordBankTransfers(
        tx,
        [bankTransfers.opening(accountId, account.currency ?? 'EUR', account.balanceMinor)],
        now,
      );
  }
  const cardIds: string[] = [];
  for (const [index, card] of input.cards.entries()) {
    const cardId = newId('card', now);
    cardIds.push(cardId);
    await tx.insert(cards).values({
      id: cardId,
      number: card.number,
      cardholderId: id,
      accountId: accountIds[card.account]!,
      expMonth: card.expMonth ?? DEMO_CARDHOLDER.expMonth,
      expYear: card.expYear ?? DEMO_CARDHOLDER.expYear,
      cvcHash: hashCvc(cardId, card.cvc ?? DEMO_CARDHOLDER.cvc),
      policy: card.policy,
      approvalTimeoutSeconds: card.approvalTimeoutSeconds ?? null,
      label: card.label,
      // A millisecond apart, so that the app lists the cards in the order they were issued.
      createdAt: new Date(now.getTime() + index),
    });
  }
  return { id, accountIds, cardIds };
}

/** Ensures the demo cardholder exists; safe to call on every start, from several nodes at once. */
export async function ensureDemoCardholder(database: Database, now: Date): Promise<void> {
  const [existing] = await database.db
    .select({ id: cardholders.id })
    .from(cardholders)
    .where(eq(cardholders.email, DEMO_CARDHOLDER.email));
  if (existing) return;
  try {
    await database.transaction((tx) =>
      createCardholder(
        tx,
        {
          email: DEMO_CARDHOLDER.email,
          password: DEMO_CARDHOLDER.password,
          name: DEMO_CARDHOLDER.name,
          accounts: [
            { name: 'Current account', balanceMinor: DEMO_CARDHOLDER.balanceMinor },
            { name: 'Almost empty account', balanceMinor: DEMO_CARDHOLDER.lowBalanceMinor },
          ],
          cards: TEST_CARDS.map((card) => ({
            number: card.number,
            account: card.behaviour === 'insufficient_funds' ? 1 : 0,
            ...policyOf(card.behaviour),
            label: card.label,
          })),
        },
        now,
      ),
    );
  } catch (err) {
    // Another node created it between our read and our insert: the unique e-mail refused ours.
    if (
      (err as { code?: string; cause?: { code?: string } }).code === '23505' ||
      (err as { cause?: { code?: string } }).cause?.code === '23505'
    )
      return;
    throw err;
  }
}
