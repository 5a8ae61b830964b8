// Dashboard accounts: the people of a merchant who log in with an e-mail and a password, and the
// failed logins that limit guessing.
import { bigserial, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { DashboardRole } from '../domain/dashboard-account.rule.ts';
import { merchants } from './tables.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });

export const dashboardUsers = pgTable('dashboard_users', {
  id: text('id').primaryKey(),
  merchantId: text('merchant_id')
    .notNull()
    .references(() => merchants.id),
  // Stored trimmed and lower-cased, so the unique constraint is case-insensitive.
  email: text('email').notNull().unique(),
  // scrypt$N$r$p$salt$hash (platform/passwords.ts); never the password.
  passwordHash: text('password_hash').notNull(),
  role: text('role').$type<DashboardRole>().notNull(),
  createdAt: ts('created_at').notNull(),
});

/** One failed login, counted against the account (its e-mail) and the client's address, by sha256 of the key. */
export const dashboardLoginFailures = pgTable(
  'dashboard_login_failures',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    keyHash: text('key_hash').notNull(),
    failedAt: ts('failed_at').notNull(),
  },
  (t) => [index('dashboard_login_failures_key_idx').on(t.keyHash, t.failedAt)],
);

export type DashboardUserRow = typeof dashboardUsers.$inferSelect;
