// Crash matrix (issue 8, item 5; one of six files, all reporting as suite "crash"): the gateway before and after the commit that records the authorisation —
// the process killed with SIGKILL there under load, then restarted; the bank's debits and holds, the
// gateway's sessions and the shop's invoices must agree, nothing twice, and the shop's audit chain verify.
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('authorize', ['gateway.authorize.before_commit', 'gateway.authorize.after_commit']);
