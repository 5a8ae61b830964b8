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
