// What one webhook delivery sends, and where: the native endpoint's (the merchant's URL, Standard
// Webhooks headers) or a Stripe-format endpoint's (its URL, Stripe-Signature with its secret). The
// delivery job (jobs/deliver-webhook.ts) runs the same schedule, faults and attempt log for both.
import type { Executor } from '../../platform/db/database.ts';
import type { SessionRow } from '../storage/tables.ts';

export interface DeliveryTarget {
  /** A Stripe-format delivery: its answer never acknowledges anything. */
  readonly stripe: boolean;
  /** A URL the merchant gave (not the operator): reached through the outbound guard. Stripe-format: always. */
  readonly guarded?: boolean;
  readonly url: string;
  /** The exact bytes sent on every attempt. */
  readonly body: string;
  readonly eventId: string;
  readonly type: string;
  readonly sessionId: string;
  readonly merchantId: string;
  readonly endpointId: string | null;
  /** A native payment.authorized: its session as read with the delivery (not locked), which the answer acknowledges. */
  readonly session?: SessionRow | null;
  /** The merchant's fault switch when it was read with the target (off: the attempt draws nothing); unknown: draw. */
  readonly faultsOn?: boolean;
  /** The signature headers of an attempt made now. */
  sign(at: Date): Promise<Record<string, string>>;
  /** Switches the endpoint off (it answered 410), in the settling transaction. */
  disableEndpoint(tx: Executor): Promise<void>;
}
