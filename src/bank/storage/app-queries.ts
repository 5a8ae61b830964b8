// What the bank app shows a cardholder: their open approval requests, accounts, holds, movements.
// Every query is scoped by the cardholder id: nobody reads another's.
import { and, desc, eq, gt } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { accounts, approvalRequests, authorizations, cards, movements } from './tables.ts';

/** Open (unanswered, unexpired) approval requests, oldest first. */
export async function openApprovals(executor: Executor, cardholderId: string, now: Date) {
  return executor
    .select({
      id: approvalRequests.id,
      expiresAt: approvalRequests.expiresAt,
      createdAt: approvalRequests.createdAt,
      merchantName: authorizations.merchantName,
      description: authorizations.description,
      amountMinor: authorizations.amountMinor,
      currency: authorizations.currency,
      cardLast4: authorizations.cardLast4,
    })
    .from(approvalRequests)
    .innerJoin(authorizations, eq(authorizations.id, approvalRequests.authorizationId))
    .where(
      and(
        eq(approvalRequests.cardholderId, cardholderId),
        eq(approvalRequests.status, 'pending'),
        gt(approvalRequests.expiresAt, now),
      ),
    )
    .orderBy(approvalRequests.createdAt);
}

/** The cardholder's accounts with booked, held and available balances. */
export async function cardholderAccounts(executor: Executor, cardholderId: string) {
  return executor
    .select()
    .from(accounts)
    .where(eq(accounts.cardholderId, cardholderId))
    .orderBy(accounts.createdAt, accounts.id);
}

/** Authorisations currently holding money on the cardholder's accounts, newest first. */
export async function openHolds(executor: Executor, cardholderId: string, limit = 10) {
  return executor
    .select({
      id: authorizations.id,
      merchantName: authorizations.merchantName,
      heldMinor: authorizations.heldMinor,
      currency: authorizations.currency,
      status: authorizations.status,
      createdAt: authorizations.createdAt,
    })
    .from(authorizations)
    .where(and(eq(authorizations.cardholderId, cardholderId), gt(authorizations.heldMinor, 0n)))
    .orderBy(desc(authorizations.createdAt))
    .limit(limit);
}

/** The most recent movements across the cardholder's accounts. */
export async function recentMovements(executor: Executor, cardholderId: string, limit = 20) {
  return executor
    .select({
      id: movements.id,
      kind: movements.kind,
      amountMinor: movements.amountMinor,
      currency: movements.currency,
      description: movements.description,
      createdAt: movements.createdAt,
      accountName: accounts.name,
    })
    .from(movements)
    .innerJoin(accounts, eq(accounts.id, movements.accountId))
    .where(eq(accounts.cardholderId, cardholderId))
    .orderBy(desc(movements.createdAt), desc(movements.id))
    .limit(limit);
}

/** The cardholder's cards (never the CVC), for the app's card list. */
export async function cardholderCards(executor: Executor, cardholderId: string) {
  return executor
    .select({
      id: cards.id,
      number: cards.number,
      expMonth: cards.expMonth,
      expYear: cards.expYear,
      policy: cards.policy,
      label: cards.label,
      accountName: accounts.name,
    })
    .from(cards)
    .innerJoin(accounts, eq(accounts.id, cards.accountId))
    .where(eq(cards.cardholderId, cardholderId))
    .orderBy(cards.createdAt, cards.id);
}
