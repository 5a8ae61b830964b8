// How an authorisation is shown to the gateway (the API's answer body).
import type { AuthorizationRow } from '../storage/authorizations.ts';

export interface AuthorizationView {
  id: string;
  gateway_ref: string;
  status: string;
  decline_reason?: string;
  approval_expires_at?: string;
  amount: { minor: string; currency: string };
  captured_amount: { minor: string; currency: string };
  refunded_amount: { minor: string; currency: string };
}

/** The API body for an authorisation; minor units as strings, as everywhere on the wire. */
export function authorizationView(row: AuthorizationRow): AuthorizationView {
  const m = (minor: bigint) => ({ minor: minor.toString(), currency: row.currency });
  return {
    id: row.id,
    gateway_ref: row.gatewayRef,
    status: row.status,
    ...(row.declineReason ? { decline_reason: row.declineReason } : {}),
    ...(row.status === 'pending' && row.approvalExpiresAt
      ? { approval_expires_at: row.approvalExpiresAt.toISOString() }
      : {}),
    amount: m(row.amountMinor),
    captured_amount: m(row.capturedMinor),
    refunded_amount: m(row.refundedMinor),
  };
}
