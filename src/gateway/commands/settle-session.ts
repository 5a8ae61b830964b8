// Carries out the shop's decided acknowledgement: capture an acknowledged authorisation, void a
// refused or timed-out one. The bank first, then the state: a crash in between is repaired by the
// retry (the bank's capture and void are idempotent).
import { money, type Currency } from '../../core/money.ts';
import { crashPoint } from '../../platform/crash-points.ts';
import { captureTransfers, NO_FEE, voidTransfers } from '../domain/ledger.payment.ts';
import { postTransfers } from '../storage/ledger.ts';
import { findSession, lockSession, moveSession } from '../storage/sessions.ts';
import type { SessionRow } from '../storage/tables.ts';
import type { GatewayDeps } from './deps.ts';

type Deps = Pick<GatewayDeps, 'database' | 'issuer' | 'clock' | 'fees'>;

/** Captures or voids a session whose acknowledgement is decided; anything else is returned unchanged. */
export async function settleSession(deps: Deps, sessionId: string): Promise<SessionRow | undefined> {
  const { database, issuer, clock } = deps;
  const s = await findSession(database.db, sessionId);
  if (!s || s.status !== 'authorized' || s.acknowledgement === null || !s.bankAuthorizationId) return s;
  if (s.acknowledgement === 'acknowledged') {
    crashPoint('gateway.capture.before_bank');
    await issuer.capture(s.bankAuthorizationId, money(s.amountMinor, s.currency as Currency));
    crashPoint('gateway.capture.after_bank');
    return database.transaction(async (tx) => {
      const locked = await lockSession(tx, sessionId);
      if (locked.status !== 'authorized') return locked;
      const captured = (
        await moveSession(tx, locked, 'capture', clock, { patch: { capturedMinor: locked.amountMinor } })
      ).session;
      // The books, with the capture: the reservation posted and released to available, the fee taken.
      await postTransfers(tx, captureTransfers(captured, captured.capturedMinor, deps.fees ?? NO_FEE), clock.now());
      return captured;
    });
  }
  try {
    crashPoint('gateway.void.before_bank');
    await issuer.void(s.bankAuthorizationId);
  } catch (err) {
    // Already released at the bank (expired or voided there): nothing to take back, record the void.
    const atBank = await issuer.status(s.bankAuthorizationId).catch(() => null);
    if (!atBank || !['voided', 'expired', 'declined'].includes(atBank.status)) throw err;
  }
  return database.transaction(async (tx) => {
    const locked = await lockSession(tx, sessionId);
    if (locked.status !== 'authorized') return locked;
    const voided = (await moveSession(tx, locked, 'void', clock, { reason: locked.voidReason ?? 'voided' })).session;
    // The books, with the void (refused, or the acknowledgement window lapsed): the reservation released.
    await postTransfers(tx, voidTransfers(voided), clock.now());
    return voided;
  });
}
