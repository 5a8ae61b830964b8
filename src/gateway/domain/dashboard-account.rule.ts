// Dashboard accounts (pure): what a sign-up and a new member must give, who may do what, and which
// keys a failed login counts against. A merchant has one or more users; the owner manages API keys,
// webhook endpoints, fault injection and the team; a member reads everything and re-sends deliveries.
import { isIP } from 'node:net';

export type DashboardRole = 'owner' | 'member';

/** The demo merchant's dashboard owner by default (printed by `npm start`, like the other demo logins). */
export const DEMO_DASHBOARD_OWNER = { email: 'merchant@gateway.test', password: 'demo-merchant-password' } as const;

/** What only an owner may do; everything else (reading, re-sending a delivery) a member may too. */
export type OwnerAction = 'keys' | 'webhooks' | 'faults' | 'team' | 'payouts';

/** Whether `role` may do `action`. */
export function mayDo(role: DashboardRole, action: OwnerAction | 'read' | 'resend'): boolean {
  return role === 'owner' || action === 'read' || action === 'resend';
}

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** An e-mail as stored and compared: trimmed, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The problems of a sign-up or new-member form, by field (empty: valid). */
export function accountProblems(input: {
  email: string;
  password: string;
  businessName?: string;
}): Partial<Record<'email' | 'password' | 'business_name', string>> {
  const out: Partial<Record<'email' | 'password' | 'business_name', string>> = {};
  const email = normalizeEmail(input.email);
  if (email.length > 254 || !/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email))
    out.email = 'Enter a valid e-mail address.';
  if ([...input.password].length < MIN_PASSWORD_LENGTH)
    out.password = `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  else if (input.password.length > MAX_PASSWORD_LENGTH) out.password = `Use at most ${MAX_PASSWORD_LENGTH} characters.`;
  if (input.businessName !== undefined) {
    const name = input.businessName.trim();
    if (name.length < 2 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name))
      out.business_name = 'Give your business a name of 2 to 100 characters.';
  }
  return out;
}

/** The failed-login limits in force. */
export interface LoginLimits {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerAddress: number;
  readonly windowSeconds: number;
}

/** The defaults: 5 failures per account, 50 per address, in 15 minutes. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 50,
  windowSeconds: 900,
};

/** The keys a login attempt counts against (before hashing) and each one's limit. */
export function loginLimitKeys(email: string, address: string, limits: LoginLimits) {
  return [
    { key: `account:${normalizeEmail(email)}`, limit: limits.maxFailuresPerAccount },
    { key: `address:${addressBucket(address)}`, limit: limits.maxFailuresPerAddress },
  ] as const;
}

/** An IPv4 address itself (IPv4-mapped included); an IPv6 address's /64, which one subscriber usually holds. */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
