// What the staff console's front page counts (whole tables, not the newest page): orders, invoices,
// customers, products for sale, and who the login limits refuse right now.
import type { Executor } from '../../platform/db/database.ts';
import type { LoginLimits } from '../domain/login-limit.ts';
import { listProducts } from './catalog.ts';
import { blockedNow } from './login-attempts.ts';
import { staffCounts } from './staff-lists.ts';

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
  const [counts, products, blocked] = await Promise.all([
    staffCounts(db),
    listProducts(db, { includeArchived: true }),
    blockedNow(db, now, login),
  ]);
  return {
    ...counts,
    productsForSale: products.filter((p) => !p.archived).length,
    blocked,
  };
}
