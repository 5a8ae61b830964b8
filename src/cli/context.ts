// Where the commands find the system: the gateway's, the shop's and the bank's URLs, the merchant's
// API key, the shop's operator token, the data directory, the CA to trust. Flags win over the environment, which wins over what `countersign
// start` keeps in <DATA_DIR> (secrets.json, tls/ca.pem), so that a command run beside a started
// system needs no flags at all.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { outboundFetch } from '../platform/http/outbound.ts';
import { parseServiceBase } from '../platform/service.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';

/** The options every subcommand accepts. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly gatewayUrl?: string;
  readonly shopUrl?: string;
  readonly bankUrl?: string;
  readonly apiKey?: string;
  readonly operatorToken?: string;
  readonly dataDir?: string;
}

export interface CliContext {
  readonly out: Output;
  readonly env: Record<string, string | undefined>;
  readonly dataDir: string;
  readonly gatewayUrl: string;
  readonly shopUrl: string;
  readonly bankUrl: string;
  readonly fetch: typeof fetch;
  /** The merchant's API key; throws a usage error naming where it looked when there is none. */
  apiKey(): string;
  /** The shop's operator token (its /ops API); throws a usage error naming where it looked when there is none. */
  operatorToken(): string;
}

function secretsFile(dataDir: string): Record<string, string> {
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

function baseUrl(party: string, port: number, env: Record<string, string | undefined>): string {
  try {
    return parseServiceBase(party, port, env).publicUrl;
  } catch (err) {
    throw new CliError(EXIT.usage, (err as Error).message, 'config.invalid');
  }
}

/** A credential found by the context, or the usage error naming every place it was looked for. */
function required(
  value: string | undefined,
  where: { what: string; short: string; flag: string; variable: string; code: string; dataDir: string },
): string {
  if (value) return value;
  throw new CliError(
    EXIT.usage,
    `no ${where.what}: pass ${where.flag}, set ${where.variable}, or run beside a system started with \`countersign start\` (its ${where.short} is in ${join(where.dataDir, 'secrets.json')})`,
    where.code,
  );
}

/** The context of one run, from the global options and the environment. */
export function createContext(opts: GlobalOptions, env: Record<string, string | undefined>): CliContext {
  const dataDir = resolve(opts.dataDir ?? env.DATA_DIR ?? './data');
  const caFile = env.COUNTERSIGN_CA_FILE ?? join(dataDir, 'tls', 'ca.pem');
  const ca = existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
  const trim = (url: string) => url.replace(/\/$/, '');
  return {
    out: createOutput(opts.json === true),
    env,
    dataDir,
    gatewayUrl: trim(opts.gatewayUrl ?? env.COUNTERSIGN_GATEWAY_URL ?? baseUrl('gateway', 3001, env)),
    shopUrl: trim(opts.shopUrl ?? env.COUNTERSIGN_SHOP_URL ?? baseUrl('shop', 3000, env)),
    bankUrl: trim(opts.bankUrl ?? env.COUNTERSIGN_BANK_URL ?? baseUrl('bank', 3002, env)),
    fetch: outboundFetch(ca),
    apiKey: () =>
      required(
        opts.apiKey ??
          env.COUNTERSIGN_API_KEY ??
          env.GATEWAY_DEMO_MERCHANT_API_KEY ??
          secretsFile(dataDir).demoMerchantApiKey,
        {
          what: 'API key',
          short: 'key',
          flag: '--api-key',
          variable: 'COUNTERSIGN_API_KEY',
          code: 'config.no_api_key',
          dataDir,
        },
      ),
    operatorToken: () =>
      required(
        opts.operatorToken ??
          env.COUNTERSIGN_OPERATOR_TOKEN ??
          env.SHOP_OPERATOR_TOKEN ??
          secretsFile(dataDir).shopOperatorToken,
        {
          what: 'operator token',
          short: 'token',
          flag: '--operator-token',
          variable: 'COUNTERSIGN_OPERATOR_TOKEN',
          code: 'config.no_operator_token',
          dataDir,
        },
      ),
  };
}

/** The shared secrets `countersign start` keeps (for the commands that are the operator's own tools). */
export function startedSecrets(ctx: CliContext): Record<string, string> {
  return secretsFile(ctx.dataDir);
}
