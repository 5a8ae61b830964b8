// Authorise: the issuer's answer to the gateway, in one transaction with its effects — the hold on the
// account (a conditional update, so concurrent authorisations can never overdraw it), the approval
// request and its expiry job, the processing-delay job, the push to the cardholder's app. What the
// issuer decides is domain/issuer-decision.ts's; this file carries the decision out. The
// authorisation is inserted in the state decided; later changes go through authorization-status.ts.
import { newId } from '../../core/ids.ts';
import { formatMoney, type Money } from '../../core/money.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import type { DeclineReason } from '../domain/authorization.machine.ts';
import { declineForRefusedHold, decideAuthorization, type PresentedCard } from '../domain/issuer-decision.ts';
import { placeHold } from '../storage/accounts.ts';
import { authorizationOrCard, type AuthorizationRow, type CardRow } from '../storage/authorizations.ts';
import { BANK_TASKS, cardholderRoom, type IssuerSettings } from '../storage/bank-settings.ts';
import { approvalRequests, authorizations } from '../storage/tables.ts';

export interface AuthorizationRequest {
  readonly gatewayRef: string;
  readonly card: PresentedCard & { readonly number: string; readonly name: string };
  readonly amount: Money;
  readonly merchantName: string;
  readonly description: string;
  readonly reference: string;
}

type NewAuthorization = typeof authorizations.$inferInsert;

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

async function insertAuthorization(tx: Executor, values: NewAuthorization): Promise<AuthorizationRow> {
  const [row] = await tx.insert(authorizations).values(values).returning();
  return row!;
}

/** Creates the authorisation (or returns the one with this gateway_ref); `created` tells which. */
export async function createAuthorization(
  tx: Executor,
  request: AuthorizationRequest,
  settings: IssuerSettings,
  clock: Clock,
): Promise<{ authorization: AuthorizationRow; created: boolean }> {
  const { existing, card, accountCurrency } = await authorizationOrCard(tx, request.gatewayRef, request.card.number);
  if (existing) return { authorization: existing, created: false };

  const now = clock.now();
  const decision = decideAuthorization(card, request.card, now);
  const base = {
    id: newId('bauth', now),
    gatewayRef: request.gatewayRef,
    cardId: card?.id ?? null,
    accountId: card?.accountId ?? null,
    cardholderId: card?.cardholderId ?? null,
    cardLast4: request.card.number.slice(-4),
    amountMinor: request.amount.minor,
    currency: request.amount.currency,
    merchantName: request.merchantName,
    description: request.description,
    reference: request.reference,
    createdAt: now,
    updatedAt: now,
  } satisfies Partial<NewAuthorization>;
  const created = (authorization: AuthorizationRow) => ({ authorization, created: true });
  const decline = async (reason: DeclineReason) =>
    created(await insertAuthorization(tx, { ...base, status: 'declined', declineReason: reason, decidedAt: now }));

  if (decision.kind === 'decline') return decline(decision.reason);
  if (card === undefined) return decline('unknown_card'); // unreachable: the decision declines unknown cards
  if (!(await placeHold(tx, card.accountId, request.amount, { authorizationId: base.id, now }))) {
    return decline(declineForRefusedHold(accountCurrency, request.amount.currency));
  }
  const held = { ...base, heldMinor: request.amount.minor };
  switch (decision.then) {
    case 'approve':
      return created(await insertAuthorization(tx, { ...held, status: 'approved', decidedAt: now }));
    case 'delay': {
      const row = await insertAuthorization(tx, { ...held, status: 'pending' });
      const runAt = new Date(now.getTime() + settings.processingDelaySeconds * 1000);
      const key = `${BANK_TASKS.processingDelay}:${row.id}`;
      await enqueue(tx, { task: BANK_TASKS.processingDelay, payload: { authorizationId: row.id }, runAt, key }, clock);
      return created(row);
    }
    case 'ask':
      return created(await askCardholder(tx, { held, card, request, settings }, clock));
  }
}

/** Inserts the pending authorisation and its approval request, schedules the expiry, and pushes it to the app. */
async function askCardholder(
  tx: Executor,
  input: {
    held: Omit<NewAuthorization, 'status'>;
    card: CardRow;
    request: AuthorizationRequest;
    settings: IssuerSettings;
  },
  clock: Clock,
): Promise<AuthorizationRow> {
  const { card, request } = input;
  const now = clock.now();
  const timeoutSeconds = card.approvalTimeoutSeconds ?? input.settings.approvalTimeoutSeconds;
  const expiresAt = new Date(now.getTime() + timeoutSeconds * 1000);
  const approvalId = newId('apr', now);
  const row = await insertAuthorization(tx, { ...input.held, status: 'pending', approvalExpiresAt: expiresAt });
  await tx.insert(approvalRequests).values({
    id: approvalId,
    authorizationId: row.id,
    cardholderId: card.cardholderId,
    status: 'pending',
    expiresAt,
    createdAt: now,
  });
  await enqueue(
    tx,
    {
      task: BANK_TASKS.expireApproval,
      payload: { approvalId },
      runAt: expiresAt,
      key: `${BANK_TASKS.expireApproval}:${approvalId}`,
    },
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
      cardLast4: row.cardLast4,
      createdAt: now,
      expiresAt,
    }),
    clock,
  );
  return row;
}
