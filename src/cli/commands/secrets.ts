// `countersign secrets rotate [--overlap 24h]`: rotates the webhook signing secret between the gateway
// and the shop, through the shop's operator API (POST /ops/secrets/rotate): the shop asks the gateway
// for a new secret and keeps it in its database, so it accepts deliveries signed with it at once and
// after a restart. The secret never reaches this command: it prints fingerprints and times only.
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { unreachable } from '../http.ts';
import { action, type RunIo } from '../program.ts';

const MAX_OVERLAP_SECONDS = 7 * 86400;
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `24h`, `30m`, `90s`, `2d`, `0s` → seconds (0 to 7 days). */
export function parseOverlap(value: string): number {
  const m = /^(\d{1,7})(s|m|h|d)$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * UNITS[m[2]!]! : Number.NaN;
  if (!(seconds >= 0 && seconds <= MAX_OVERLAP_SECONDS))
    throw new InvalidArgumentError('expected a duration from 0s to 7d, such as 24h, 30m or 90s');
  return seconds;
}

interface Rotated {
  rotated_at: string;
  new_secret_fingerprint: string;
  old_secrets_expire_at: string | null;
  overlap_seconds: number;
  resumed: boolean;
}

/** The failure of an answer of the shop's operator API, with its exit code. */
function failure(res: Response, body: { error?: { code?: string; message?: string; details?: unknown } }): CliError {
  const code = body.error?.code ?? 'http.error';
  const message = body.error?.message ?? `${res.status} ${res.statusText}`;
  if (res.status === 401)
    return new CliError(EXIT.refused, `the shop refused the operator token: ${message}`, 'auth.refused');
  if (res.status === 404)
    return new CliError(
      EXIT.unavailable,
      'the shop has no operator API (it runs without SHOP_OPERATOR_TOKEN; `countersign start` sets one)',
      'ops.unavailable',
    );
  if (res.status === 502 || res.status === 503)
    return new CliError(
      EXIT.unavailable,
      `the shop could not rotate at the gateway: ${message} ${JSON.stringify(body.error?.details ?? {})}`,
      code,
    );
  return new CliError(EXIT.problem, `the shop answered ${res.status}: ${message}`, code);
}

async function rotate(ctx: CliContext, flags: { overlap: number }): Promise<number> {
  const url = `${ctx.shopUrl}/ops/secrets/rotate`;
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${ctx.operatorToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ overlap_seconds: flags.overlap }),
    });
  } catch (err) {
    throw unreachable('shop', ctx.shopUrl, err);
  }
  const body = (await res.json().catch(() => ({}))) as Rotated & { error?: { code?: string; message?: string } };
  if (!res.ok) throw failure(res, body);
  ctx.out.result({ ok: true, ...body });
  ctx.out.line(`rotated    ${body.rotated_at}  new secret ${body.new_secret_fingerprint} (fingerprint)`);
  ctx.out.line(
    body.old_secrets_expire_at
      ? `overlap    the gateway signs with the old and the new secret until ${body.old_secrets_expire_at}, then with the new one only`
      : 'overlap    none: there was no older secret in force',
  );
  if (body.resumed)
    ctx.out.line(
      `note       this finished a rotation an earlier call had started (its overlap: ${body.overlap_seconds} s)`,
    );
  ctx.out.line('shop       keeps the new secret in its database: accepted now, on every node, and after a restart');
  return EXIT.ok;
}

/** Registers `secrets rotate`. */
export function registerSecrets(program: Command, io: RunIo): void {
  const secrets = program.command('secrets').description('the webhook signing secret between the gateway and the shop');
  secrets
    .command('rotate')
    .description(
      "rotate the gateway's webhook signing secret for the shop: the gateway makes a new secret and signs with it at once; " +
        'the old one keeps signing beside it until the overlap ends, then stops. The shop learns the new secret through ' +
        'its operator API and keeps it in its database, so it needs no restart and keeps it after one. The secret is never printed.',
    )
    .option(
      '--overlap <duration>',
      'how long the old secret keeps signing beside the new one (0s to 7d: 24h, 30m, 90s); 0s stops it at once',
      parseOverlap,
      86400,
    )
    .addHelpText(
      'after',
      '\nThe shop asks with its own API key and an Idempotency-Key recorded first: if it crashed before it kept the\n' +
        'secret, the next `secrets rotate` finishes that rotation (the same secret) instead of making another.\n' +
        'The operator token comes from --operator-token, COUNTERSIGN_OPERATOR_TOKEN, or <data-dir>/secrets.json.',
    )
    .action(action(io, rotate));
}
