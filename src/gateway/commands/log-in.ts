// A dashboard user logs in with an e-mail and a password. An unknown e-mail and a wrong password get
// the same verdict after the same work (a dummy hash is checked for an unknown e-mail); failures are
// counted per account and per client address, and past the limit an attempt is refused before any
// password is looked at.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { verifyAgainstDummy, verifyPassword } from '../../platform/passwords.ts';
import { loginLimitKeys, type LoginLimits } from '../domain/dashboard-account.rule.ts';
import type { DashboardUserRow } from '../storage/account-tables.ts';
import { clearFailures, findDashboardUserByEmail, recentFailures, recordFailure } from '../storage/dashboard-users.ts';

export type LogInVerdict = { verdict: 'ok'; user: DashboardUserRow } | { verdict: 'invalid' } | { verdict: 'limited' };

/** Whether an attempt from `address` for `email` is still allowed (no limit key at its limit). */
export async function loginAllowed(
  deps: { database: Database; clock: Clock; limits: LoginLimits },
  email: string,
  address: string,
): Promise<boolean> {
  const keys = loginLimitKeys(email, address, deps.limits);
  const since = new Date(deps.clock.now().getTime() - deps.limits.windowSeconds * 1000);
  const counts = await recentFailures(
    deps.database.db,
    keys.map((k) => k.key),
    since,
  );
  return keys.every((k) => (counts.get(k.key) ?? 0) < k.limit);
}

/** Counts a failed attempt (or a refused sign-up) against the account and the address. */
export async function countFailure(
  deps: { database: Database; clock: Clock; limits: LoginLimits },
  email: string,
  address: string,
): Promise<void> {
  const keys = loginLimitKeys(email, address, deps.limits);
  await recordFailure(
    deps.database.db,
    keys.map((k) => k.key),
    deps.clock.now(),
  );
}

/** Checks the credentials, within the limits. */
export async function logIn(
  deps: { database: Database; clock: Clock; limits: LoginLimits },
  input: { email: string; password: string; address: string },
): Promise<LogInVerdict> {
  if (!(await loginAllowed(deps, input.email, input.address))) return { verdict: 'limited' };
  const user = input.email ? await findDashboardUserByEmail(deps.database.db, input.email) : undefined;
  const ok = user ? await verifyPassword(input.password, user.passwordHash) : await verifyAgainstDummy(input.password);
  if (!user || !ok) {
    await countFailure(deps, input.email, input.address);
    return { verdict: 'invalid' };
  }
  await clearFailures(deps.database.db, loginLimitKeys(input.email, input.address, deps.limits)[0].key);
  return { verdict: 'ok', user };
}
