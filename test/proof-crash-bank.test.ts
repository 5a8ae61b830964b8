// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the gateway before and after the bank's authorisation —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('bank', ['gateway.bank.before_authorize', 'gateway.bank.after_authorize']);
