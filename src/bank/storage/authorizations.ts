// Reads of authorisations: by id, by the gateway's reference (the idempotency key of authorise), with
// the presented card (authorise's first read), and locked for the rest of a command's transaction.
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { accounts, authorizations, cards } from './tables.ts';

export type AuthorizationRow = typeof authorizations.$inferSelect;
export type CardRow = typeof cards.$inferSelect;

/** Locks an authorisation row for the rest of the transaction. */
export async function lockAuthorization(tx: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await tx.select().from(authorizations).where(eq(authorizations.id, id)).for('update');
  return row;
}

/** An authorisation by id. */
export async function findAuthorization(executor: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await executor.select().from(authorizations).where(eq(authorizations.id, id));
  return row;
}

/** An authorisation by the gateway's reference. */
export async function findByGatewayRef(executor: Executor, gatewayRef: string): Promise<AuthorizationRow | undefined> {
  const [row] = await executor.select().from(authorizations).where(eq(authorizations.gatewayRef, gatewayRef));
  return row;
}

/**
 * What authorise reads first, in one statement: the authorisation already made for this reference
 * (a repeat), else the presented card and its account's currency (undefined when the bank has no
 * such card).
 */
export async function authorizationOrCard(
  executor: Executor,
  gatewayRef: string,
  cardNumber: string,
): Promise<{ existing: AuthorizationRow | undefined; card: CardRow | undefined; accountCurrency: string | undefined }> {
  const [row] = await executor
    .select({ existing: authorizations, card: cards, accountCurrency: accounts.currency })
    .from(sql`(select 1) as one`)
    .leftJoin(authorizations, eq(authorizations.gatewayRef, gatewayRef))
    .leftJoin(cards, eq(cards.number, cardNumber))
    .leftJoin(accounts, eq(accounts.id, cards.accountId));
  return {
    existing: row?.existing ?? undefined,
    card: row?.card ?? undefined,
    accountCurrency: row?.accountCurrency ?? undefined,
  };
}
