// `countersign events list|show|resend`: the merchant's event log at the gateway and the webhook
// deliveries of each event (native API: GET /v1/events, GET /v1/events/{id},
// POST /v1/webhook_deliveries/{id}/resend).
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { expectOk, gatewayClient, type GatewayEvent } from '../gateway-client.ts';
import { action, type RunIo } from '../program.ts';

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a number 1..10000');
  return n;
}

function cursorArg(value: string): string {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) throw new InvalidArgumentError('expected a feed cursor (digits)');
  return value;
}

/** The event line of `list` and `listen`: cursor, id, type, session, amount, status. */
export function eventLine(e: GatewayEvent): string {
  const amount = `${e.data.amount.minor} ${e.data.amount.currency}`;
  return `${e.cursor.padStart(6)}  ${e.created_at}  ${e.id}  ${e.type.padEnd(26)} ${e.data.session_id}  ${amount}${e.data.reason ? `  (${e.data.reason})` : ''}`;
}

/** Reads the feed after `after`, up to `limit` events (pages of 100), keeping those of `types`. */
export async function readFeed(ctx: CliContext, after: string, limit: number, types?: readonly string[]) {
  const client = gatewayClient(ctx);
  const found: GatewayEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await expectOk(
      ctx,
      'events',
      client.GET('/v1/events', { params: { query: { after: cursor, limit: 100 } } }),
    );
    for (const e of page.data) if (!types || types.includes(e.type)) found.push(e);
    cursor = page.next_cursor;
    if (!page.has_more || found.length >= limit) break;
  }
  return { events: found.slice(0, limit), nextCursor: cursor };
}

/** An event with its deliveries; exit 5 when the merchant has no such event. */
function findEvent(ctx: CliContext, id: string) {
  return expectOk(ctx, `event ${id}`, gatewayClient(ctx).GET('/v1/events/{id}', { params: { path: { id } } }));
}

async function show(ctx: CliContext, id: string): Promise<number> {
  const e = await findEvent(ctx, id);
  ctx.out.result(e);
  ctx.out.line(eventLine(e));
  ctx.out.line(JSON.stringify({ id: e.id, type: e.type, created_at: e.created_at, data: e.data }, null, 2));
  if (e.deliveries.length === 0) ctx.out.line('deliveries: none (the merchant has no webhook endpoint)');
  for (const d of e.deliveries) {
    ctx.out.line(
      `delivery ${d.id}: ${d.status}, ${d.attempts} attempt(s)${d.next_attempt_at ? `, next at ${d.next_attempt_at}` : ''}`,
    );
    for (const a of d.attempt_log)
      ctx.out.line(`  #${a.attempt} ${a.at}  ${a.status_code ?? a.error ?? 'no answer'}  ${a.latency_ms} ms  ${a.url}`);
  }
  return EXIT.ok;
}

async function resend(ctx: CliContext, id: string): Promise<number> {
  let deliveryId = id;
  if (!id.startsWith('whd_')) {
    const e = await findEvent(ctx, id);
    const last = e.deliveries.at(-1);
    if (!last)
      throw new CliError(
        EXIT.problem,
        `event ${id} has no webhook delivery to re-send (the merchant has no webhook endpoint)`,
        'delivery.none',
      );
    deliveryId = last.id;
  }
  const answer = await expectOk(
    ctx,
    `webhook delivery ${deliveryId}`,
    gatewayClient(ctx).POST('/v1/webhook_deliveries/{id}/resend', { params: { path: { id: deliveryId } } }),
  );
  ctx.out.result({ delivery_id: answer.id, status: answer.status, event_id: id.startsWith('whd_') ? null : id });
  ctx.out.line(
    `re-sending delivery ${answer.id}${id === deliveryId ? '' : ` of ${id}`}: ${answer.status} (\`countersign events show ${id}\` shows its attempts)`,
  );
  return EXIT.ok;
}

/** Adds `events list|show|resend`. */
export function registerEvents(program: Command, io: RunIo): void {
  const events = program
    .command('events')
    .description("the merchant's event log at the gateway and its webhook deliveries");
  events
    .command('list')
    .description('the event feed, oldest first, after a cursor')
    .option('--after <cursor>', 'start after this feed cursor (0: from the first event)', cursorArg, '0')
    .option('--limit <n>', 'at most this many events', count, 50)
    .option('--type <types>', 'only these event types, comma-separated (payment.captured,payment.refunded)')
    .action(
      action(io, async (ctx, flags: { after: string; limit: number; type?: string }) => {
        const types = flags.type?.split(',').map((t) => t.trim());
        const { events: found, nextCursor } = await readFeed(ctx, flags.after, flags.limit, types);
        ctx.out.result({ data: found, next_cursor: nextCursor });
        for (const e of found) ctx.out.line(eventLine(e));
        ctx.out.line(`${found.length} event(s); next: --after ${nextCursor}`);
        return EXIT.ok;
      }),
    );
  events
    .command('show')
    .description('one event, its webhook deliveries and every attempt (status, latency, URL)')
    .argument('<id>', 'the event id (evt_…)')
    .action(action(io, show));
  events
    .command('resend')
    .description("re-send an event's webhook delivery now (the same event id and body, signed afresh)")
    .argument('<id>', 'the event id (evt_…: its latest delivery) or a delivery id (whd_…)')
    .action(action(io, resend));
}
