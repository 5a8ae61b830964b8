// Where a merchant's webhooks may go. A webhook carries payment news the merchant acts on, signed but
// readable: over plain http anyone on the path reads every payment and can delay or drop it. So an
// endpoint must be https, except on this machine's loopback (development, tests) or when the operator
// says so explicitly (GATEWAY_ALLOW_HTTP_WEBHOOKS, for a closed test network).
//
// And a URL a merchant registers through the API (a Stripe-format webhook endpoint) must not make the
// gateway reach its own network: GATEWAY_WEBHOOK_NETWORKS says which addresses such a URL may lead
// to — `public` (production), `loopback` (the default: public, plus this machine, for development on
// one machine), `any` (a closed test network). Checked on a literal address when registered, and on
// every resolved address at each delivery (platform/http/outbound.ts guardedFetch). URLs the operator
// configures (the demo merchant's) are trusted: an internal shop is a normal deployment.
import { BlockList, isIP } from 'node:net';

/** Which addresses a merchant-registered webhook URL may reach. */
export type WebhookNetworks = 'public' | 'loopback' | 'any';
export const WEBHOOK_NETWORKS = ['public', 'loopback', 'any'] as const;

function blockList(ranges: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of ranges) list.addSubnet(net, prefix, type);
  return list;
}

/** This machine: 127.0.0.0/8 and ::1 (a BlockList matches IPv4-mapped IPv6 addresses against IPv4 rules). */
const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

/** Addresses that are not the public internet (RFC 6890 special-purpose, private, shared, link-local…). */
const NOT_PUBLIC = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

/** Whether a merchant-registered webhook may connect to this address under the policy. */
export function webhookAddressAllowed(address: string, networks: WebhookNetworks): boolean {
  if (networks === 'any') return true;
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(address, type)) return networks === 'loopback';
  return !NOT_PUBLIC.check(address, type);
}

/** True for hosts that never leave the machine: localhost, *.localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * Why a webhook URL is refused, or undefined when it is acceptable; `networks` applies to URLs a
 * merchant registers ('any' for the operator's own configuration).
 */
export function webhookUrlProblem(
  url: string,
  allowHttp: boolean,
  networks: WebhookNetworks = 'any',
): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !webhookAddressAllowed(host, networks))
    return `must not lead to ${host}: an address of a private, shared or reserved network (GATEWAY_WEBHOOK_NETWORKS=${networks})`;
  if (networks === 'public' && isLoopbackHost(host))
    return `must not lead to this machine (GATEWAY_WEBHOOK_NETWORKS=public)`;
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol !== 'http:') return 'must be an https:// URL';
  if (allowHttp || isLoopbackHost(parsed.hostname)) return undefined;
  return `must be https:// (plain http is allowed only to localhost/127.0.0.1, or with GATEWAY_ALLOW_HTTP_WEBHOOKS=true)`;
}
