// The client side of the gateway's event stream (GET /v1/events/stream, Server-Sent Events): parse
// the messages, and resume from the last cursor after any disconnect.
import type { CliContext } from '../context.ts';
import { answerError, unreachable } from '../http.ts';

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** The messages of an SSE body, as they arrive (comments skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) yield { id, event, data: data.join('\n') };
        event = 'message';
        data = [];
        id = undefined;
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id') id = value;
      }
    }
  }
}

/** Opens the stream after `cursor` (or from now when undefined); throws the CLI's errors (unreachable, refused). */
export async function openStream(ctx: CliContext, cursor: string | undefined, signal: AbortSignal) {
  let res: Response;
  try {
    res = await ctx.fetch(`${ctx.gatewayUrl}/v1/events/stream`, {
      headers: {
        authorization: `Bearer ${ctx.apiKey()}`,
        accept: 'text/event-stream',
        ...(cursor !== undefined ? { 'last-event-id': cursor } : {}),
      },
      signal,
    });
  } catch (err) {
    throw unreachable('gateway', ctx.gatewayUrl, err);
  }
  if (!res.ok || !res.body) throw await answerError('gateway', res, 'event stream');
  return readSse(res.body);
}

/** The cursor of the merchant's newest event (the stream's first message says where it starts). */
export async function currentCursor(ctx: CliContext): Promise<string> {
  const abort = new AbortController();
  try {
    for await (const m of await openStream(ctx, undefined, abort.signal)) return m.id ?? '0';
    return '0';
  } finally {
    abort.abort();
  }
}
