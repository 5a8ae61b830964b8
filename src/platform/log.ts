// Structured logs with pino. Every line written while a request is handled carries its request id
// (AsyncLocalStorage, so code deep in a call needs no logger passed in), and secrets never reach a
// log: known secret fields are redacted by name, and anything shaped like a card number is masked
// wherever it appears.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** Runs fn with a request id that every log line inside it will carry. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

/** The current request id, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

const SECRET_KEY =
  /pass(word)?|secret|token|authorization|cookie|api[-_]?key|^card(number)?$|^pan$|^number$|cvc|cvv|signature/i;
// 13-19 digits, optionally grouped by spaces or dashes: the shapes a card number takes.
const PAN = /\b(?:\d[ -]?){12,18}\d\b/g;

/** Replaces secret-named fields and card-number-shaped strings, recursively. */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return value.replace(PAN, (m) => `[card …${m.replace(/\D/g, '').slice(-4)}]`);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    if (value instanceof Error)
      return { type: value.name, message: scrub(value.message, depth + 1), stack: scrub(value.stack, depth + 1) };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) && v != null ? '[redacted]' : scrub(v, depth + 1);
    return out;
  }
  return value;
}

/** Creates a service's logger. */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service },
      messageKey: 'msg',
      mixin: () => {
        const id = currentRequestId();
        return id ? { requestId: id } : {};
      },
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // pino takes a bare Error's message as the line's message: scrub that too.
          const first = args[0];
          const normal = first instanceof Error ? [{ err: first }, args[1] ?? first.message, ...args.slice(2)] : args;
          method.apply(
            this,
            normal.map((a) => (typeof a === 'string' ? (scrub(a) as string) : a)) as Parameters<typeof method>,
          );
        },
      },
      serializers: { err: (e: unknown) => scrub(e) },
    },
    destination,
  );
}
