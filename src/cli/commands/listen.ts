// `countersign listen --forward-to <url>`: the merchant's gateway events, live (the gateway's SSE
// stream, not polling), each forwarded to a local URL signed exactly as the gateway signs its
// webhooks with a secret made for this session and printed at start: Standard Webhooks headers for
// a native key's events, `Stripe-Signature` for a Stripe-dialect key's (Stripe event objects, which
// `stripe.webhooks.constructEvent` verifies).
// A dropped stream (the gateway restarting) is resumed from the last cursor, so no event is lost or
// forwarded twice. The forwarded copies acknowledge nothing: the gateway's own delivery to the
// merchant's endpoint (and its acknowledgement rule) is untouched.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { newStripeEndpointSecret, stripeSignatureHeader } from '../../core/stripe-signature.ts';
import { newWebhookSecret, signWebhook } from '../../core/webhook-signature.ts';
import type { CliContext } from '../context.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { action, type RunIo } from '../program.ts';
import { openStream } from './listen-stream.ts';

interface ListenFlags {
  forwardTo: string;
  events?: string;
  after?: string;
}

function localUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    return url.toString();
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://localhost:4242/webhooks');
  }
}

type Format = 'native' | 'stripe';

/** The receiver's secret for the stream's format: Stripe's `whsec_` form, or Standard Webhooks'. */
function secretFor(format: Format): string {
  return format === 'stripe' ? newStripeEndpointSecret() : newWebhookSecret();
}

/** The signature headers the gateway's own delivery of this body would carry. */
function signatureHeaders(format: Format, secret: string, id: string, body: string): Record<string, string> {
  if (format === 'stripe') return { 'stripe-signature': stripeSignatureHeader(secret, new Date(), body) };
  return { ...signWebhook({ id, timestamp: new Date(), body, secrets: [secret] }) };
}

/** Posts one event to the local URL, signed; resolves with the status (or the error) and the latency. */
async function forward(
  ctx: CliContext,
  url: string,
  signing: { format: Format; secret: string },
  event: Record<string, unknown>,
) {
  const { cursor: _cursor, ...payload } = event;
  const body = JSON.stringify(payload);
  const headers = signatureHeaders(signing.format, signing.secret, String(payload.id), body);
  const t0 = performance.now();
  try {
    const res = await ctx.fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'countersign-cli/listen' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status, error: null, latencyMs: Math.round(performance.now() - t0) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return { status: null, error: cause, latencyMs: Math.round(performance.now() - t0) };
  }
}

async function listen(ctx: CliContext, flags: ListenFlags): Promise<number> {
  let signing: { format: Format; secret: string } | undefined;
  const types = flags.events?.split(',').map((t) => t.trim());
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  let cursor = flags.after;
  let connected = false;
  let backoffMs = 250;
  const say = (human: string, json: Record<string, unknown>) =>
    ctx.out.json ? process.stdout.write(`${JSON.stringify(json)}\n`) : ctx.out.line(human);
  while (!stop.signal.aborted) {
    try {
      const stream = await openStream(ctx, cursor, stop.signal);
      backoffMs = 250;
      for await (const m of stream) {
        if (m.event === 'stream.started') {
          cursor ??= m.id;
          const format: Format = (JSON.parse(m.data) as { format?: string }).format === 'stripe' ? 'stripe' : 'native';
          signing ??= { format, secret: secretFor(format) };
          if (!connected)
            say(
              `Ready! Forwarding ${format === 'stripe' ? 'Stripe-format ' : ''}events to ${flags.forwardTo}; your webhook signing secret is ${signing.secret} (Ctrl-C to quit)`,
              { ready: true, forward_to: flags.forwardTo, format, secret: signing.secret, cursor },
            );
          else say(`reconnected; resuming after cursor ${cursor}`, { reconnected: true, cursor });
          connected = true;
          continue;
        }
        const event = JSON.parse(m.data) as Record<string, unknown> & { id: string; type: string };
        cursor = m.id ?? cursor;
        if (types && !types.includes(event.type)) continue;
        const r = await forward(ctx, flags.forwardTo, signing!, event);
        say(
          `${new Date().toISOString()}  --> ${event.type} [${event.id}]  <-- [${r.status ?? r.error}] POST ${flags.forwardTo} (${r.latencyMs} ms)`,
          {
            event_id: event.id,
            type: event.type,
            cursor,
            status: r.status,
            error: r.error,
            latency_ms: r.latencyMs,
          },
        );
      }
    } catch (err) {
      if (stop.signal.aborted) break;
      // Before the first connection a failure is the answer (key refused: 4, unreachable: 3); after it, the gateway is restarting.
      if (!connected || (err instanceof CliError && err.exitCode === EXIT.refused)) throw err;
    }
    if (stop.signal.aborted) break;
    if (!ctx.out.json)
      process.stderr.write(`stream lost; reconnecting in ${backoffMs} ms (resuming after cursor ${cursor})\n`);
    await new Promise((r) => setTimeout(r, backoffMs));
    backoffMs = Math.min(backoffMs * 2, 5000);
  }
  return EXIT.ok;
}

/** Adds `listen`. */
export function registerListen(program: Command, io: RunIo): void {
  program
    .command('listen')
    .description(
      "stream the merchant's gateway events as they happen and forward each to a local URL, signed with a secret printed at start (Standard Webhooks; Stripe-Signature for a Stripe-dialect key)",
    )
    .requiredOption('--forward-to <url>', 'where to POST each event (e.g. http://localhost:4242/webhooks)', localUrl)
    .option('--events <types>', 'only these event types, comma-separated (default: all)')
    .option('--after <cursor>', 'start after this feed cursor instead of now (replays what came after it)')
    .addHelpText(
      'after',
      `
Forwarded events are copies for development: the local URL's answer acknowledges nothing at the
gateway (the merchant's own webhook endpoint still gets the real delivery). The stream survives a
gateway restart: it reconnects and resumes from its cursor, no event lost or forwarded twice.
With --json, one JSON object per line: first {ready, secret, cursor}, then one per forwarded event.`,
    )
    .action(action(io, listen));
}
