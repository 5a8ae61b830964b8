// The CLI's client of the gateway's native API: openapi-fetch over the types generated from the
// gateway's own /openapi.json (src/core/gateway-api.d.ts, `npm run client:generate`), so a changed
// API shows up as a type error here rather than as a surprise at run time.
import createClient from 'openapi-fetch';
import type { components, paths } from '../core/gateway-api.d.ts';
import type { CliContext } from './context.ts';
import { answerError, unreachable } from './http.ts';

export type GatewayEvent = components['schemas']['Event'];
export type GatewayEventWithDeliveries = components['schemas']['EventWithDeliveries'];
export type PaymentSession = components['schemas']['PaymentSession'];
export type Refund = components['schemas']['Refund'];

export type GatewayClient = ReturnType<typeof createClient<paths>>;

/** A client authenticated with the merchant's API key. */
export function gatewayClient(ctx: CliContext): GatewayClient {
  return createClient<paths>({
    baseUrl: ctx.gatewayUrl,
    fetch: (request: Request) => ctx.fetch(request),
    headers: { authorization: `Bearer ${ctx.apiKey()}` },
  });
}

/** Awaits a client call: its data, or the CLI error for unreachable (3), key refused (4), unknown id (5), other (1). */
export async function expectOk<T>(
  ctx: CliContext,
  resource: string,
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw unreachable('gateway', ctx.gatewayUrl, err);
  }
  if (result.response.ok && result.data !== undefined) return result.data;
  throw await answerError('gateway', result.response, resource, result.error);
}
