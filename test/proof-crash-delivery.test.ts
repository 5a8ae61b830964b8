// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the gateway's webhook delivery: before the send, after it before the answer is recorded, and before the answer is acted on —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('delivery', [
  'gateway.webhook.before_send',
  'gateway.webhook.after_send',
  'gateway.webhook.before_acknowledge',
]);
