// Calls to a party's HTTP API, with the failures every command reports the same way: unreachable
// (exit 3), key refused (exit 4), no such id (exit 5); the party's own error message otherwise.
import { CliError, EXIT } from './exit-codes.ts';
import type { CliContext } from './context.ts';

/** Thrown by fetch when nothing answers: named for the user, with how to start the system. */
export function unreachable(what: string, url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(
    EXIT.unavailable,
    `cannot reach the ${what} at ${url} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? (\`countersign start\`)`,
    'service.unreachable',
  );
}

/** Maps an error answer of a party to the CLI's error. */
export async function answerError(what: string, res: Response, resource: string, parsed?: unknown): Promise<CliError> {
  const body = (parsed ?? (await res.json().catch(() => ({})))) as { error?: { code?: string; message?: string } };
  const message = body.error?.message ?? `${res.status} ${res.statusText}`;
  if (res.status === 401 || res.status === 403)
    return new CliError(
      EXIT.refused,
      `the ${what} refused the API key: ${message}`,
      body.error?.code ?? 'auth.refused',
    );
  if (res.status === 404) return new CliError(EXIT.notFound, `no such ${resource}`, 'not_found');
  return new CliError(EXIT.problem, `the ${what} answered ${res.status}: ${message}`, body.error?.code ?? 'http.error');
}

/** A JSON call to the gateway's native API with the merchant's key. */
export async function gatewayJson<T>(
  ctx: CliContext,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; resource?: string; idempotencyKey?: string } = {},
): Promise<T> {
  const url = `${ctx.gatewayUrl}${path}`;
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${ctx.apiKey()}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (err) {
    throw unreachable('gateway', ctx.gatewayUrl, err);
  }
  if (!res.ok) throw await answerError('gateway', res, options.resource ?? 'resource');
  return (await res.json()) as T;
}

/** A JSON call to the shop's operator API (/ops) with the operator token. */
export async function shopOpsJson<T>(
  ctx: CliContext,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const token = ctx.operatorToken();
  const url = `${ctx.shopUrl}/ops${path}`;
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw unreachable('shop', ctx.shopUrl, err);
  }
  if (res.ok) return (await res.json()) as T;
  const parsed = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (res.status === 401)
    throw new CliError(EXIT.refused, 'the shop refused the operator token', parsed.error?.code ?? 'auth.refused');
  if (res.status === 404)
    throw new CliError(
      EXIT.unavailable,
      `the shop at ${ctx.shopUrl} has no operator API (SHOP_OPERATOR_TOKEN is not set there)`,
      'ops.absent',
    );
  if (res.status === 502 || res.status === 503)
    throw new CliError(
      EXIT.unavailable,
      `the shop could not reach its gateway (${res.status}: ${parsed.error?.message ?? res.statusText})`,
      parsed.error?.code ?? 'upstream.unavailable',
    );
  throw await answerError('shop', res, 'operator resource', parsed);
}
