// What the staff console's front page counts: orders, invoices, customers, products for sale, and who
// the login limits refuse right now.
import type { Executor } from '../../platform/db/database.ts';
import type { LoginLimits } from '../domain/login-limit.ts';
import { listUsers } from './accounts.ts';
import { listProducts } from './catalog.ts';
import { blockedNow } from './login-attempts.ts';
import { listInvoices, listOrders } from './orders.ts';

export interface StaffSummary {
  readonly orders: number;
  readonly awaitingPayment: number;
  readonly invoices: number;
  readonly customers: number;
  readonly productsForSale: number;
  /** Accounts and addresses the login limits refuse now. */
  readonly blocked: { readonly accounts: number; readonly addresses: number };
}

/** The counts on the staff console's front page. */
export async function staffSummary(db: Executor, now: Date, login: LoginLimits): Promise<StaffSummary> {
  const [orders, invoices, users, products, blocked] = await Promise.all([
    listOrders(db),
    listInvoices(db),
    listUsers(db),
    listProducts(db, { includeArchived: true }),
    blockedNow(db, now, login),
  ]);
  return {
    orders: orders.length,
    awaitingPayment: orders.filter((o) => o.order.status === 'awaiting_payment').length,
    invoices: invoices.length,
    customers: users.filter((u) => u.role === 'customer').length,
    productsForSale: products.filter((p) => !p.archived).length,
    blocked,
  };
}
