// Crash matrix, gateway's authorisation (issue 8, item 5): the gateway's process killed with SIGKILL
// before and after the bank's authorisation and before and after the commit that records it, under
// load, then restarted; the bank's debits and holds, the gateway's sessions and the shop's invoices
// must agree, and the shop's audit chain verify. (Delivery, capture and void: proof-crash-delivery.)
import { crashMatrixSuite } from './support/proof-crash-suite.ts';

crashMatrixSuite('gateway', ['gateway.bank.before_authorize', 'gateway.bank.after_authorize', 'gateway.authorize.before_commit', 'gateway.authorize.after_commit']);
