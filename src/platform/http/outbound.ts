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
import { createRequire } from 'node:module';
import { rootCertificates } from 'node:tls';
import type * as Undici from 'undici';

const clients = new Map<string, typeof fetch>();

/** A fetch that trusts the public roots plus `ca` (PEM) when given; verification is never turned off. */
export function outboundFetch(ca: string | undefined): typeof fetch {
  if (ca === undefined) return globalThis.fetch;
  let client = clients.get(ca);
  if (client === undefined) {
    const { Agent, fetch: undiciFetch } = createRequire(import.meta.url)('undici') as typeof Undici;
    // `ca` replaces Node's store for this agent, so the public roots are listed with it.
    const dispatcher = new Agent({ connect: { ca: [...rootCertificates, ca], rejectUnauthorized: true } });
    client = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      undiciFetch(
        input as Parameters<typeof undiciFetch>[0],
        { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1],
      )) as unknown as typeof fetch;
    clients.set(ca, client);
  }
  return client;
}
