// Crash matrix (reports as suite "crash") with the shop on its Stripe adapter against our gateway's
// Stripe API: the process killed with SIGKILL at the steps of the Stripe path under load, then
// restarted; the bank's debits and holds, the gateway's sessions and the shop's invoices must agree,
// nothing twice, and the shop's audit chain verify. On this path the shop's verdict is a call, not a
// webhook answer: its capture job's `capture` reaches the gateway's capture (gateway.capture.*), a
// refusal's `cancel` the void (gateway.void.before_bank), and Stripe webhooks are taken in by the
// shop's Stripe intake (shop.webhook.before_commit; the native intake's after_commit/after_ack points
// are not on this path). At CI size the step only this path has: the gateway killed inside the
// capture the shop's capture job calls (the job retries after the restart; captured once); at full
// size every step the Stripe path passes, five runs each at a random occurrence.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';
import { sized } from './support/proof.ts';

crashMatrixSuite(
  'stripe',
  sized(
    ['gateway.capture.before_bank'],
    [
      'shop.payment.before_create_session',
      'shop.payment.after_create_session',
      'shop.webhook.before_commit',
      'shop.reconcile.after_apply',
      'gateway.authorize.before_commit',
      'gateway.authorize.after_commit',
      'gateway.webhook.before_send',
      'gateway.webhook.after_send',
      'gateway.capture.before_bank',
      'gateway.capture.after_bank',
      'gateway.void.before_bank',
    ],
  ),
  'stripe',
);
