// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the shop's webhook intake: before its commit, after the commit but before the 2xx (acknowledgement), and after the 2xx —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('intake', ['shop.webhook.before_commit', 'shop.webhook.after_commit', 'shop.webhook.after_ack']);
