// The issuer settings storage operations need (parsed from the environment in main.ts).
export interface IssuerSettings {
  /** How long a cardholder has to answer an approval request (cards without their own timeout). */
  readonly approvalTimeoutSeconds: number;
  /** How long a `delayed` card's authorisation stays pending before it is approved. */
  readonly processingDelaySeconds: number;
  /** How long a merchant has to answer a dispute before the bank decides (BANK_DISPUTE_WINDOW_SECONDS). */
  readonly disputeWindowSeconds: number;
  /** Gateway merchants whose account at the bank refuses payouts (BANK_PAYOUT_REFUSED_MERCHANTS: a closed account). */
  readonly payoutRefusedMerchants?: readonly string[];
}

/** Task names of the bank's durable jobs. */
export const BANK_TASKS = {
  expireApproval: 'bank.expire_approval',
  processingDelay: 'bank.processing_delay',
  deliverCallback: 'bank.deliver_callback',
  disputeDeadline: 'bank.dispute_deadline',
  prune: 'bank.prune',
} as const;

/** The real-time room of one cardholder's bank app. */
export function cardholderRoom(cardholderId: string): string {
  return `cardholder:${cardholderId}`;
}
