// Where order-status events go: integration endpoints (warehouse, CRM) named in configuration, and
// the one secret their deliveries are signed with (Standard Webhooks, like the gateway's to us).
import { z } from 'zod';
import { parseEnv } from '../../platform/config.ts';

/** One integration endpoint: a stable name (it keys the delivery state) and its URL. */
export interface IntegrationEndpoint {
  readonly name: string;
  readonly url: string;
}

/** The integrations' configuration, parsed once at start. */
export interface IntegrationConfig {
  readonly endpoints: readonly IntegrationEndpoint[];
  /** `whsec_…`; one, or two (comma-separated) while receivers rotate. */
  readonly secrets: readonly string[];
  /** Per delivery attempt. */
  readonly timeoutMs: number;
}

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;

/** Parses `name=url,name=url` pairs; a bad pair names itself (never a secret). */
export function parseEndpoints(raw: string | undefined): IntegrationEndpoint[] {
  const pairs = (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const seen = new Set<string>();
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    const name = at > 0 ? pair.slice(0, at).trim() : '';
    const url = at > 0 ? pair.slice(at + 1).trim() : '';
    if (!NAME.test(name)) throw new Error(`"${pair}" is not name=url (name: lower-case letters, digits, - or _)`);
    if (seen.has(name)) throw new Error(`endpoint name "${name}" appears twice`);
    seen.add(name);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`endpoint "${name}" has no valid URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`endpoint "${name}" must be http(s)`);
    return { name, url: parsed.toString() };
  });
}

/** Reads SHOP_INTEGRATION_ENDPOINTS, SHOP_INTEGRATION_SECRET and SHOP_INTEGRATION_TIMEOUT_MS. */
export function loadIntegrationConfig(env: Record<string, string | undefined> = process.env): IntegrationConfig {
  const raw = parseEnv(
    'shop',
    {
      SHOP_INTEGRATION_ENDPOINTS: z
        .string()
        .optional()
        .transform((v, ctx) => {
          try {
            return parseEndpoints(v);
          } catch (err) {
            ctx.addIssue({ code: 'custom', message: (err as Error).message });
            return z.NEVER;
          }
        }),
      SHOP_INTEGRATION_SECRET: z
        .string()
        .optional()
        .transform((v) =>
          (v ?? '')
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        )
        .refine((l) => l.length <= 2, 'at most two secrets (during a rotation)')
        .refine(
          (l) => l.every((x) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(x)),
          'each secret is whsec_ followed by base64',
        ),
      SHOP_INTEGRATION_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    },
    env,
  );
  if (raw.SHOP_INTEGRATION_ENDPOINTS.length > 0 && raw.SHOP_INTEGRATION_SECRET.length === 0) {
    // Same wording as parseEnv so that the operator sees which variable to set.
    parseEnv(
      'shop',
      { SHOP_INTEGRATION_SECRET: z.string().min(1, 'required when SHOP_INTEGRATION_ENDPOINTS is set') },
      {},
    );
  }
  return Object.freeze({
    endpoints: Object.freeze(raw.SHOP_INTEGRATION_ENDPOINTS),
    secrets: Object.freeze(raw.SHOP_INTEGRATION_SECRET),
    timeoutMs: raw.SHOP_INTEGRATION_TIMEOUT_MS,
  });
}
