// The one HTTP client every party calls the others with (shop → gateway, gateway → shop webhooks,
// gateway → bank, bank → gateway callbacks, shop → integrations). It always verifies the peer's
// certificate; a configured CA is trusted in addition to the public roots, never instead of checking.
//
// Why undici's own fetch and Agent rather than Node's global fetch with a `dispatcher`: the global
// fetch is the undici bundled inside Node (6.x on Node 20, 7.x on Node 24), and handing it an Agent
// from the npm package couples two copies whose dispatcher interfaces changed between majors. Taking
// fetch and Agent from the same package keeps them one version on every Node we support. Node 20 has
// no API to add a CA to the default TLS context at run time (tls.setDefaultCACertificates is 22.15+),
// and NODE_EXTRA_CA_CERTS cannot come from the zod config: it is read once, before our code runs.
//
// The package is loaded only when a CA is configured: it costs each process about 20 MB resident,
// which a party on the public roots alone (Node's own fetch) need not pay.
//
// A request with a string body and `redirect: 'manual'` (every call between the parties, and every
// webhook) does not go through fetch at all: buffered-fetch.ts sends it over node:http, on agents that
// trust the same CA and guard the same addresses.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type * as Undici from 'undici';
import { bufferedFetch, fetchFailed, keepAliveAgents } from './buffered-fetch.ts';

const clients = new Map<string, typeof fetch>();

/** A fetch that trusts the public roots plus `ca` (PEM) when given; verification is never turned off. */
export function outboundFetch(ca: string | undefined): typeof fetch {
  const key = ca ?? '';
  let client = clients.get(key);
  if (client === undefined) {
    // `ca` replaces Node's store for an agent, so the public roots are listed with it.
    const connect = { ...(ca === undefined ? {} : { ca: [...rootCertificates, ca] }), rejectUnauthorized: true };
    const fallback: typeof fetch =
      ca === undefined ? (input, init) => globalThis.fetch(input, init) : undiciFetch(connect);
    client = bufferedFetch(fallback, keepAliveAgents(connect));
    clients.set(key, client);
  }
  return client;
}

/** The undici package's fetch over its own Agent (see above for why not Node's); the package is loaded at the first call. */
function undiciFetch(connect: Undici.Agent.Options['connect']): typeof fetch {
  let loaded: { fetch: typeof Undici.fetch; dispatcher: Undici.Agent } | undefined;
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    if (loaded === undefined) {
      const undici = createRequire(import.meta.url)('undici') as typeof Undici;
      loaded = { fetch: undici.fetch, dispatcher: new undici.Agent({ connect }) };
    }
    return loaded.fetch(
      input as Parameters<typeof Undici.fetch>[0],
      { ...(init as object), dispatcher: loaded.dispatcher } as Parameters<typeof Undici.fetch>[1],
    );
  }) as unknown as typeof fetch;
}

/** Decides whether an outbound request may connect to an address (IPv4 or IPv6, as resolved). */
export type AddressPolicy = (address: string) => boolean;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolver = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for sockets that resolves as dns.lookup does and refuses the connection when any address
 * the name resolved to is not allowed — checked on the very addresses the socket then connects to, so
 * a name that resolves to a public address when registered and a private one later (DNS rebinding)
 * is still refused.
 */
export function guardedLookup(allowed: AddressPolicy, resolve: Resolver = dnsLookup as unknown as Resolver): Resolver {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const refused = list.find((a) => !allowed(a.address));
      if (refused || list.length === 0) {
        const blocked = Object.assign(new Error(`${hostname} resolves to an address outgoing requests may not reach`), {
          code: 'EADDRBLOCKED',
        });
        return callback(blocked, []);
      }
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/**
 * A fetch (as outboundFetch, with `ca` trusted besides the public roots) that connects only to allowed
 * addresses: a literal address in the URL is checked before anything is sent, a name on each address
 * it resolves to. For requests to URLs someone outside the operator chose (a merchant's webhook
 * endpoint), so that they cannot make this process reach its own internal network.
 */
export function guardedFetch(ca: string | undefined, allowed: AddressPolicy): typeof fetch {
  const connect = {
    ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    rejectUnauthorized: true,
    lookup: guardedLookup(allowed) as never,
  };
  // The package is loaded at the first request that does not fit buffered-fetch.ts (its cost: above).
  const buffered = bufferedFetch(undiciFetch(connect), keepAliveAgents(connect));
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !allowed(host))
      throw fetchFailed(
        Object.assign(new Error(`${host} is an address outgoing requests may not reach`), { code: 'EADDRBLOCKED' }),
      );
    return buffered(input, init);
  }) as unknown as typeof fetch;
}
