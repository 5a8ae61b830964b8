// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the gateway's settlement: before and after the capture at the bank, and before the void —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('settle', ['gateway.capture.before_bank', 'gateway.capture.after_bank', 'gateway.void.before_bank']);
