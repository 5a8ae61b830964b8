// Crash matrix, gateway's delivery and settlement (issue 8, item 5): the gateway's process killed with
// SIGKILL during webhook delivery (before the send; after it, before the answer is recorded; before
// the answer is acted on), before
// and after the capture at the bank, and before the void, under load, then restarted; the bank's
// debits, the gateway's sessions and the shop's invoices must agree, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('delivery', ['gateway.webhook.before_send', 'gateway.webhook.after_send', 'gateway.webhook.before_acknowledge', 'gateway.capture.before_bank', 'gateway.capture.after_bank', 'gateway.void.before_bank']);
