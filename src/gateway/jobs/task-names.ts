// The names of the gateway's job tasks, shared by the commands that enqueue them and the worker
// that runs them (main.ts).

/** Captures or voids an authorisation once the shop's acknowledgement is decided. */
export const SETTLE_TASK = 'gateway.settle_authorization';
/** Tells the bank about a recorded refund, until it has. */
export const REFUND_AT_BANK_TASK = 'gateway.refund_at_bank';
/** One attempt of a webhook delivery. */
export const DELIVER_WEBHOOK_TASK = 'gateway.deliver_webhook';
/** Forwards a merchant's answer to a dispute (evidence or acceptance) to the bank, until it has. */
export const FORWARD_DISPUTE_TASK = 'gateway.forward_dispute';
/** Asks the bank to pay a pending payout, until it has answered. */
export const SEND_PAYOUT_TASK = 'gateway.send_payout';
/** The recurring payout run (every GATEWAY_PAYOUT_INTERVAL seconds). */
export const PAYOUTS_TASK = 'gateway.payouts';
