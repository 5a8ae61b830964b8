// Reads of authorisations: by id, by the gateway's reference (the idempotency key of authorise), with
// the presented card (authorise's first read), and locked for the rest of a command's transaction.
import { eq, sql } from 'drizzle-orm';
import { builtOnce, slot } from '../../platform/db/built-once.ts';
import type { Executor } from '../../platform/db/database.ts';
import { accounts, authorizations, cards } from './tables.ts';

export type AuthorizationRow = typeof authorizations.$inferSelect;
export type CardRow = typeof cards.$inferSelect;

// Every payment reads these (builtOnce: rendered once, an id or reference their one value).
const byId = eq(authorizations.id, slot('id', authorizations.id));
const locked = builtOnce((on) =>
  on.select().from(authorizations).where(byId).for('update').prepare('lock_authorization'),
);
const byIdRead = builtOnce((on) => on.select().from(authorizations).where(byId).prepare('find_authorization'));
const byGatewayRef = builtOnce((on) =>
  on
    .select()
    .from(authorizations)
    .where(eq(authorizations.gatewayRef, slot('gatewayRef', authorizations.gatewayRef)))
    .prepare('authorization_by_gateway_ref'),
);

/** Locks an authorisation row for the rest of the transaction. */
export async function lockAuthorization(tx: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await locked(tx).execute({ id });
  return row;
}

/** An authorisation by id. */
export async function findAuthorization(executor: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await byIdRead(executor).execute({ id });
  return row;
}

/** An authorisation by the gateway's reference. */
export async function findByGatewayRef(executor: Executor, gatewayRef: string): Promise<AuthorizationRow | undefined> {
  const [row] = await byGatewayRef(executor).execute({ gatewayRef });
  return row;
}

const existingOrCard = builtOnce((on) =>
  on
    .select({ existing: authorizations, card: cards, accountCurrency: accounts.currency })
    .from(sql`(select 1) as one`)
    .leftJoin(authorizations, eq(authorizations.gatewayRef, slot('gatewayRef', authorizations.gatewayRef)))
    .leftJoin(cards, eq(cards.number, slot('cardNumber', cards.number)))
    .leftJoin(accounts, eq(accounts.id, cards.accountId))
    .prepare('authorization_or_card'),
);

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
  const [row] = await existingOrCard(executor).execute({ gatewayRef, cardNumber });
  return {
    existing: row?.existing ?? undefined,
    card: row?.card ?? undefined,
    accountCurrency: row?.accountCurrency ?? undefined,
  };
}
