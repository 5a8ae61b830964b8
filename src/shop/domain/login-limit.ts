/**
 * Failed-login limits (pure). A login attempt is counted against two keys: the account (its e-mail)
 * and the client's address. Each key may fail `limit` times within the window; the next attempt is
 * refused before its password is looked at. The address limit is higher, since many people may share
 * one address (offices, carrier NAT). The storage reserves an attempt under both keys before the
 * password is checked, so that any number of simultaneous attempts, on any number of nodes, are
 * checked at most `limit` times.
 */
import { isIP } from 'node:net';

/** The limits in force (SHOP_LOGIN_*). */
export interface LoginLimits {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerAddress: number;
  readonly windowSeconds: number;
}

export type LimitKind = 'account' | 'address';

/** One key an attempt counts against, and how many failures it may have in the window. */
export interface LimitKey {
  readonly kind: LimitKind;
  /** `account:<e-mail>` or `address:<address bucket>`, before hashing. */
  readonly key: string;
  readonly limit: number;
}

/** The keys a login attempt counts against, in a fixed order (the lock order). */
export function limitKeys(email: string, address: string, limits: LoginLimits): readonly LimitKey[] {
  return [
    { kind: 'account', key: `account:${email.trim().toLowerCase()}`, limit: limits.maxFailuresPerAccount },
    { kind: 'address', key: `address:${addressBucket(address)}`, limit: limits.maxFailuresPerAddress },
  ];
}

/**
 * The unit an address is limited by: an IPv4 address itself (IPv4-mapped IPv6 included), an IPv6
 * address's /64 — one subscriber usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::1.2.3.4) stands for two groups; only the first four groups matter here.
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.map((g) => (g.includes('.') ? g : String(parseInt(g, 16).toString(16))));
}

/**
 * The client's address from X-Forwarded-For when `trustedHops` proxies of ours stand in front:
 * each appends the address it saw, so the client is the entry `trustedHops` from the right. Entries
 * further left were written by the client and prove nothing. Undefined when the header has fewer
 * entries or the entry is not an address (then the socket's address is used).
 */
export function forwardedClient(header: string | undefined, trustedHops: number): string | undefined {
  if (!header || trustedHops <= 0) return undefined;
  const entries = header.split(',').map((e) => e.trim());
  const entry = entries[entries.length - trustedHops];
  return entry && isIP(entry) ? entry : undefined;
}
