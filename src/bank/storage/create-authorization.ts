// Authorise: the issuer's answer to the gateway, in one transaction with its effects — the hold on the
// account (a conditional update, so concurrent authorisations can never overdraw it), the approval
// request and its expiry job, the processing-delay job, the push to the cardholder's app.
import { and, eq, gte, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import { formatMoney, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { decideAuthorization, type PresentedCard } from '../domain/issuer-decision.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import { accounts, approvalRequests, authorizations, cards } from './bank.schema.ts';
import type { AuthorizationRow } from './authorization-view.ts';
import { BANK_TASKS, cardholderRoom, type IssuerSettings } from './bank-settings.ts';

export interface AuthorizationRequest {
  readonly gatewayRef: string;
  readonly card: PresentedCard & { readonly number: string; readonly name: string };
  readonly amount: Money;
  readonly merchantName: string;
  readonly description: string;
  readonly reference: string;
}

/** The push payload that makes an approval request appear in the cardholder's app. */
export function approvalRequestedMessage(input: {
  approvalId: string;
  merchantName: string;
  description: string;
  amount: Money;
  cardLast4: string;
  createdAt: Date;
  expiresAt: Date;
}) {
  return {
    type: 'approval.requested',
    approval: {
      id: input.approvalId,
      merchant: input.merchantName,
      description: input.description,
      amount: { minor: input.amount.minor.toString(), currency: input.amount.currency },
      amountText: formatMoney(input.amount),
      cardLast4: input.cardLast4,
      createdAt: input.createdAt.toISOString(),
      expiresAt: input.expiresAt.toISOString(),
    },
  };
}

/** Looks up an authorisation by the gateway's reference (the idempotency key of authorise). */
export async function findByGatewayRef(executor: Executor, gatewayRef: string): Promise<AuthorizationRow | undefined> {
  const [row] = await executor.select().from(authorizations).where(eq(authorizations.gatewayRef, gatewayRef));
  return row;
}

/** Creates the authorisation (or returns the one with this gateway_ref); `created` tells which. */
export async function createAuthorization(
  tx: Executor,
  request: AuthorizationRequest,
  settings: IssuerSettings,
  clock: Clock,
): Promise<{ authorization: AuthorizationRow; created: boolean }> {
  const existing = await findByGatewayRef(tx, request.gatewayRef);
  if (existing) return { authorization: existing, created: false };

  const now = clock.now();
  const [card] = await tx.select().from(cards).where(eq(cards.number, request.card.number));
  const decision = decideAuthorization(card, request.card, now);
  const id = newId('bauth', now);
  const amountMinor = request.amount.minor;
  const base = {
    id,
    gatewayRef: request.gatewayRef,
    cardId: card?.id ?? null,
    accountId: card?.accountId ?? null,
    cardholderId: card?.cardholderId ?? null,
    cardLast4: request.card.number.slice(-4),
    amountMinor,
    currency: request.amount.currency,
    merchantName: request.merchantName,
    description: request.description,
    reference: request.reference,
    createdAt: now,
    updatedAt: now,
  };

  const decline = async (reason: DeclineReason) => {
    const [row] = await tx
      .insert(authorizations)
      .values({ ...base, status: 'declined', declineReason: reason, decidedAt: now })
      .returning();
    return { authorization: row!, created: true };
  };

  if (decision.kind === 'decline') return decline(decision.reason);
  if (card === undefined) return decline('unknown_card'); // unreachable: the decision declines unknown cards

  // The hold: one conditional update. The row lock it takes serialises concurrent holds on the same
  // account, and the condition is re-checked on the locked row, so available never goes below zero.
  const held = await tx
    .update(accounts)
    .set({ heldMinor: sql`${accounts.heldMinor} + ${amountMinor}` })
    .where(
      and(
        eq(accounts.id, card.accountId),
        eq(accounts.currency, request.amount.currency),
        gte(sql`${accounts.balanceMinor} - ${accounts.heldMinor}`, amountMinor),
      ),
    )
    .returning({ id: accounts.id, currency: accounts.currency });
  if (held.length === 0) {
    const [account] = await tx.select({ currency: accounts.currency }).from(accounts).where(eq(accounts.id, card.accountId));
    // An account in another currency cannot pay this amount at all; that is a card decline.
    return decline(account?.currency === request.amount.currency ? 'insufficient_funds' : 'card_declined');
  }

  if (decision.then === 'approve') {
    const [row] = await tx
      .insert(authorizations)
      .values({ ...base, status: 'approved', heldMinor: amountMinor, decidedAt: now })
      .returning();
    return { authorization: row!, created: true };
  }

  if (decision.then === 'delay') {
    const [row] = await tx.insert(authorizations).values({ ...base, status: 'pending', heldMinor: amountMinor }).returning();
    await enqueue(
      tx,
      {
        task: BANK_TASKS.processingDelay,
        payload: { authorizationId: id },
        runAt: new Date(now.getTime() + settings.processingDelaySeconds * 1000),
        key: `${BANK_TASKS.processingDelay}:${id}`,
      },
      clock,
    );
    return { authorization: row!, created: true };
  }

  // Ask the cardholder.
  const timeoutSeconds = card.approvalTimeoutSeconds ?? settings.approvalTimeoutSeconds;
  const expiresAt = new Date(now.getTime() + timeoutSeconds * 1000);
  const approvalId = newId('apr', now);
  const [row] = await tx
    .insert(authorizations)
    .values({ ...base, status: 'pending', heldMinor: amountMinor, approvalExpiresAt: expiresAt })
    .returning();
  await tx.insert(approvalRequests).values({
    id: approvalId,
    authorizationId: id,
    cardholderId: card.cardholderId,
    status: 'pending',
    expiresAt,
    createdAt: now,
  });
  await enqueue(
    tx,
    { task: BANK_TASKS.expireApproval, payload: { approvalId }, runAt: expiresAt, key: `${BANK_TASKS.expireApproval}:${approvalId}` },
    clock,
  );
  // Last in the transaction: publish holds the room's lock until commit.
  await publish(
    tx,
    cardholderRoom(card.cardholderId),
    approvalRequestedMessage({
      approvalId,
      merchantName: request.merchantName,
      description: request.description,
      amount: request.amount,
      cardLast4: base.cardLast4,
      createdAt: now,
      expiresAt,
    }),
    clock,
  );
  return { authorization: row!, created: true };
}
