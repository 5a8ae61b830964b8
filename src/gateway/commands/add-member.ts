// An owner adds a member to the merchant's team with an initial password, which the owner passes on
// (no mail is sent). The member logs in with it; members read everything and re-send deliveries.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { hashPassword } from '../../platform/passwords.ts';
import { accountProblems, type DashboardRole } from '../domain/dashboard-account.rule.ts';
export { DEMO_DASHBOARD_OWNER } from '../domain/dashboard-account.rule.ts';
import type { DashboardUserRow } from '../storage/account-tables.ts';
import { findDashboardUserByEmail, insertDashboardUser } from '../storage/dashboard-users.ts';

export type AddMemberVerdict =
  | { verdict: 'added'; user: DashboardUserRow }
  | { verdict: 'invalid'; problems: Partial<Record<'email' | 'password', string>> }
  | { verdict: 'email_taken' };

/** Adds a user to `merchantId` (the caller checked that an owner asks). */
export async function addMember(
  deps: { database: Database; clock: Clock },
  merchantId: string,
  input: { email: string; password: string; role: DashboardRole },
): Promise<AddMemberVerdict> {
  const problems = accountProblems(input);
  if (Object.keys(problems).length) return { verdict: 'invalid', problems };
  const passwordHash = await hashPassword(input.password);
  const user = await insertDashboardUser(
    deps.database.db,
    { merchantId, email: input.email, passwordHash, role: input.role },
    deps.clock,
  );
  return user ? { verdict: 'added', user } : { verdict: 'email_taken' };
}

/** Makes an owner with this e-mail for the merchant unless the e-mail has an account already (start-up seeding). */
export async function ensureDashboardUser(
  deps: { database: Database; clock: Clock },
  merchantId: string,
  owner: { email: string; password: string },
): Promise<void> {
  if (await findDashboardUserByEmail(deps.database.db, owner.email)) return;
  const passwordHash = await hashPassword(owner.password);
  await insertDashboardUser(
    deps.database.db,
    { merchantId, email: owner.email, passwordHash, role: 'owner' },
    deps.clock,
  );
}
