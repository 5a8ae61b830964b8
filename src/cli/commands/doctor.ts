// `countersign doctor`: checks a deployment from the outside — each service answers /readyz, the
// shop's and the gateway's webhook secrets agree (by fingerprint, never the secret), every clock is
// within the webhook tolerance of this one, the shop's migrations are current, its jobs are not stuck,
// and the gateway takes the shop's API key. The shop is asked through its operator API (GET /ops/status).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { shopOpsJson } from '../http.ts';
import { withProgress } from '../output.ts';
import { action, type RunIo } from '../program.ts';

/** One check: passed or not, why, and what to do about it. */
export interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
  /** The service could not be reached at all (exit 3 rather than 1). */
  readonly unreachable?: boolean;
}

interface ShopStatus {
  time: string;
  migrations: { applied: number; bundled: number };
  jobs: {
    stuck_after_seconds: number;
    overdue: number;
    abandoned: number;
    failed: number;
    latest_failed: { task: string }[];
  };
  webhook_secrets: { fingerprints: string[] };
  gateway: { kind: string; url: string; api_key: string; reason?: string };
}

/** The webhook tolerance: a signed delivery older or newer than this is refused. */
export const CLOCK_TOLERANCE_SECONDS = 300;

const check = (name: string, ok: boolean, detail: string, fix?: string): Check => ({
  check: name,
  ok,
  detail,
  ...(ok || !fix ? {} : { fix }),
});

/** GET <url>/readyz: whether it is ready, and the clock skew its Date header shows (seconds). */
async function probe(ctx: CliContext, name: string, url: string): Promise<{ ready: Check; skew?: number }> {
  const before = Date.now();
  let res: Response;
  try {
    res = await ctx.fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return {
      ready: {
        ...check(
          name,
          false,
          `no answer from ${url} (${cause})`,
          `start it (\`countersign start\`) or pass --${name}-url`,
        ),
        unreachable: true,
      },
    };
  }
  const local = (before + Date.now()) / 2;
  const date = Date.parse(res.headers.get('date') ?? '');
  const skew = Number.isNaN(date) ? undefined : Math.round((date - local) / 1000);
  const ready = check(
    name,
    res.ok,
    res.ok ? `${url} is ready` : `${url}/readyz answered ${res.status} (database unreachable or not migrated)`,
    `see the ${name}'s log (<data-dir>/logs/${name}.log)`,
  );
  return { ready, ...(skew === undefined ? {} : { skew }) };
}

function clockCheck(skews: Record<string, number>): Check {
  const worst = Object.entries(skews).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0];
  const list = Object.entries(skews)
    .map(([n, s]) => `${n} ${s >= 0 ? '+' : ''}${s} s`)
    .join(', ');
  if (!worst)
    return check('clocks', false, 'no service answered with a Date header', 'check the services are reachable');
  return check(
    'clocks',
    Math.abs(worst[1]) <= CLOCK_TOLERANCE_SECONDS,
    `skew against this machine: ${list} (webhooks tolerate ±${CLOCK_TOLERANCE_SECONDS} s)`,
    `synchronise the ${worst[0]}'s clock (NTP): signed webhooks outside ±${CLOCK_TOLERANCE_SECONDS} s are refused`,
  );
}

/** Consistent when the shop verifies with at least one secret the gateway signs with. */
export function secretsCheck(shop: readonly string[], gateway: readonly string[]): Check {
  const shared = shop.filter((f) => gateway.includes(f));
  return check(
    'webhook secrets',
    shared.length > 0,
    `gateway signs with [${gateway.join(', ')}], shop verifies with [${shop.join(', ')}]${shared.length ? ` — shared ${shared.join(', ')}` : ' — none shared: every webhook is refused'}`,
    "give the shop the gateway's signing secret (SHOP_GATEWAY_WEBHOOK_SECRETS), or rotate both together",
  );
}

function statusChecks(s: ShopStatus): Check[] {
  const m = s.migrations;
  const j = s.jobs;
  const failed = j.latest_failed.map((f) => f.task).join(', ');
  return [
    check(
      'shop migrations',
      m.applied === m.bundled,
      `${m.applied} applied, ${m.bundled} bundled`,
      m.applied < m.bundled
        ? 'restart the shop: it migrates at start'
        : 'the database was migrated by a newer version: deploy that version',
    ),
    check(
      'shop jobs',
      j.overdue === 0 && j.abandoned === 0 && j.failed === 0,
      `${j.overdue} due for over ${j.stuck_after_seconds} s and not taken, ${j.abandoned} abandoned by a dead worker, ${j.failed} failed in the last 24 h${failed ? ` (${failed})` : ''}`,
      'check the shop is running its worker and see <data-dir>/logs/shop.log for the failures',
    ),
    check(
      'shop → gateway',
      s.gateway.api_key === 'ok',
      `the shop pays through ${s.gateway.kind === 'stripe' ? 'Stripe' : 'our gateway'} at ${s.gateway.url}: API key ${s.gateway.api_key}${s.gateway.reason ? ` (${s.gateway.reason})` : ''}`,
      "give the shop the merchant's API key (SHOP_GATEWAY_API_KEY) and the gateway's URL (SHOP_GATEWAY_URL)",
    ),
  ];
}

/** Every check, in order; services that do not answer are reported, not thrown. */
export async function runChecks(ctx: CliContext): Promise<Check[]> {
  const services = { shop: ctx.shopUrl, gateway: ctx.gatewayUrl, bank: ctx.bankUrl };
  const probes = await Promise.all(Object.entries(services).map(([n, url]) => probe(ctx, n, url)));
  const checks = probes.map((p) => p.ready);
  const skews: Record<string, number> = {};
  probes.forEach((p, i) => p.skew !== undefined && (skews[Object.keys(services)[i]!] = p.skew));
  let status: ShopStatus | undefined;
  if (!probes[0]!.ready.unreachable) {
    try {
      status = await shopOpsJson<ShopStatus>(ctx, 'GET', '/status');
      checks.push(...statusChecks(status));
    } catch (err) {
      if (err instanceof CliError && err.exitCode === EXIT.usage) throw err;
      const hint = 'pass the operator token of this shop (--operator-token or COUNTERSIGN_OPERATOR_TOKEN)';
      checks.push(check('shop status', false, (err as Error).message, hint));
    }
  }
  if (status && !probes[1]!.ready.unreachable) checks.push(await gatewaySecrets(ctx, status));
  checks.push(clockCheck(skews));
  return checks;
}

async function gatewaySecrets(ctx: CliContext, status: ShopStatus): Promise<Check> {
  // On its Stripe adapter the shop verifies with the Stripe endpoint's secret, which Stripe's API never
  // shows again (nor does ours in that dialect): nothing to compare, said as such rather than failed.
  if (status.gateway.kind === 'stripe')
    return check(
      'webhook secrets',
      true,
      "skipped: the shop is on its Stripe adapter; a Stripe endpoint's secret cannot be read back to compare (a wrong one shows as refused deliveries in the shop's staff console)",
    );
  try {
    const res = await ctx.fetch(`${ctx.gatewayUrl}/v1/webhook_secrets`, {
      headers: { authorization: `Bearer ${ctx.apiKey()}` },
    });
    if (!res.ok)
      return check(
        'webhook secrets',
        false,
        `the gateway answered ${res.status} to GET /v1/webhook_secrets`,
        "pass the merchant's API key (--api-key or COUNTERSIGN_API_KEY)",
      );
    const body = (await res.json()) as { data: { fingerprint: string }[] };
    return secretsCheck(
      status.webhook_secrets.fingerprints,
      body.data.map((d) => d.fingerprint),
    );
  } catch (err) {
    if (err instanceof CliError) throw err;
    return check('webhook secrets', false, `the gateway did not answer (${(err as Error).message})`);
  }
}

/** Adds `doctor`. */
export function registerDoctor(program: Command, io: RunIo): void {
  program
    .command('doctor')
    .description(
      'check a deployment: services reachable, webhook secrets consistent between shop and gateway, clocks, migrations, jobs',
    )
    .addHelpText(
      'after',
      `
Each check prints ✓ or ✗ with the reason and, when it fails, a fix. The shop is asked through its
operator API (GET <shop>/ops/status, with the operator token), the gateway with the merchant's API key
(GET <gateway>/v1/webhook_secrets: fingerprints only), the bank by its /readyz. Clocks: each service's
Date header against this machine's, within ±${CLOCK_TOLERANCE_SECONDS} s (the webhook tolerance).
Exit 0 when every check passes, 1 when one fails, 3 when a service cannot be reached.`,
    )
    .action(
      action(io, async (ctx) => {
        const checks = await withProgress(ctx.out, 'checking the shop, the gateway and the bank', () => runChecks(ctx));
        ctx.out.result(checks);
        for (const c of checks) {
          ctx.out.line(`${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail}`);
          if (c.fix) ctx.out.line(`    fix: ${c.fix}`);
        }
        const failed = checks.filter((c) => !c.ok).length;
        ctx.out.line(failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`);
        if (checks.some((c) => c.unreachable)) return EXIT.unavailable;
        return failed ? EXIT.problem : EXIT.ok;
      }),
    );
}
