// The edge every service shares: request ids, access logs, metrics, health and readiness, the
// OpenAPI document, and the ONE error mapper that turns domain errors into HTTP answers.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Env, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { matchedRoutes } from 'hono/route';
import { DomainError, toHttpError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { withRequestId, type Logger } from '../log.ts';
import { strictTransportSecurity } from './hsts.ts';
import type { HttpMetrics } from './metrics.ts';

/** Context variables every route can read. */
export interface BaseVariables {
  requestId: string;
}

/** A Hono env carrying the base variables plus a party's own. */
export type AppEnv<V extends object = object> = Env & { Variables: BaseVariables & V };

/** A router whose zod validation failures go through the one error mapper (422 with field issues). */
export function createRouter<E extends Env = AppEnv>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw result.error;
    },
  });
}

const HTTP_CODES: Record<number, Parameters<typeof toHttpError>[0]> = {
  400: new DomainError('request.malformed'),
  401: new DomainError('auth.required'),
  403: new DomainError('auth.forbidden'),
  404: new DomainError('not_found'),
  // The OpenAPI router's media-type gate: a JSON route sent text/plain, a form or no content type.
  415: new DomainError('request.unsupported_media_type'),
};

/** Maps anything thrown at the edge to `{ error: { code, message } }` with the right status. */
export function errorResponse(err: unknown, log: Logger) {
  let mapped = err;
  if (err instanceof HTTPException) {
    const known = HTTP_CODES[err.status];
    if (known) mapped = known;
    else if (err.status === 413) mapped = new DomainError('request.too_large');
    // Any other client error Hono or a middleware raises is still the client's: never a 500.
    else if (err.status >= 400 && err.status < 500)
      mapped = new DomainError('request.malformed', { status: err.status });
  }
  const out = toHttpError(mapped);
  if (out.status >= 500) log.error({ err }, 'request failed');
  return out;
}

export interface ServiceAppOptions {
  readonly name: string;
  readonly version?: string;
  readonly log: Logger;
  readonly metrics: HttpMetrics;
  /** True when the database is reachable and migrated (and anything else the service needs). */
  readonly ready: () => Promise<boolean>;
  /** Send Strict-Transport-Security on every answer (the party's public URL is https). */
  readonly hsts?: boolean;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** The largest request body any route reads: forms and API calls are a few KB, webhooks at most 256 KB. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * How much of a too-large body is still read (and thrown away) before the 413 goes out. An answer sent
 * while the client is still uploading makes Node close the socket with unread bytes in it, and the
 * client then sees a reset instead of the 413; past this much the connection is closed anyway.
 */
export const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

/**
 * Bounds every request body, for strangers too, before anything reads it (refuseUnreadableInput below
 * parses bodies before any route authenticates). A declared Content-Length within the limit is trusted:
 * Node's parser never reads past it. A larger one, or a body of unknown length (chunked), is read here
 * chunk by chunk; a body that fits is handed on through Hono's body cache, so every later reader gets
 * the very same bytes. One that does not fit is drained and refused with 413 request.too_large. Not
 * hono/body-limit: it answers before the body is read, which is what makes the client see a reset.
 */
async function limitBody(c: Context, next: Next): Promise<void> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) <= MAX_BODY_BYTES) return next();
  // No Content-Length and no Transfer-Encoding: no body (RFC 9112, 6.3), and Node's parser reads none.
  // Asked first because `raw.body` makes @hono/node-server build a whole web Request and stream for
  // the request, which it otherwise skips (most requests are GETs; bodies are read from Node directly).
  if (declared === undefined && c.req.header('transfer-encoding') === undefined) return next();
  const body = c.req.raw.body;
  if (!body) return next();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size <= MAX_BODY_BYTES) chunks.push(value);
    else if (size > MAX_DRAINED_BYTES) {
      c.header('connection', 'close');
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  if (size > MAX_BODY_BYTES) throw new DomainError('request.too_large', { maxBytes: MAX_BODY_BYTES });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  bodyCache(c).arrayBuffer = Promise.resolve(bytes.buffer);
  await next();
}

/** Hono's body cache: every body reader (text, json, arrayBuffer, parseBody) consults it first. */
const bodyCache = (c: Context) =>
  // It holds promises, although its type says plain values.
  c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer>; text?: Promise<string>; formData?: Promise<FormData> };

/**
 * Reads the body once and puts its text in Hono's body cache, decoded as Response.text() decodes (UTF-8,
 * a leading BOM dropped). Hono would otherwise make the text of cached bytes through a web Response and
 * its stream (3% of the bank's CPU under load: its routes read JSON as text). Returns the bytes and
 * the text with a leading BOM kept, which is what the form parser reads.
 */
async function cacheText(c: Context): Promise<{ bytes: Uint8Array; decoded: string }> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const decoded = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  bodyCache(c).text ??= Promise.resolve(decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded);
  return { bytes, decoded };
}

/** A urlencoded form's fields as `Response.formData()` parses them, from the body's text (BOM kept). */
function urlencodedForm(decoded: string): FormData {
  const form = new FormData();
  for (const [name, value] of new URLSearchParams(decoded)) form.append(name, value);
  return form;
}

const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
const hasNul = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('\u0000')
    : Array.isArray(value)
      ? value.some(hasNul)
      : typeof value === 'object' && value !== null
        ? Object.entries(value).some(([k, v]) => k.includes('\u0000') || hasNul(v))
        : false;

/**
 * Input no service can read or store is refused at the edge, once, as 400 request.malformed — not as
 * a 500 from deep inside a handler: a form body that does not parse (a multipart body with a broken
 * boundary makes the platform's formData() throw), and a NUL character in the URL, a form field or a
 * JSON string (PostgreSQL text cannot hold U+0000, so the first query with it fails). Hono caches the
 * parsed form and the raw bytes, so handlers (and the webhook intake's signature check over the raw
 * bytes) read the very same body afterwards.
 */
async function refuseUnreadableInput(c: Context, next: Next): Promise<void> {
  if (/%00/.test(c.req.url) || c.req.url.includes('\u0000'))
    throw new DomainError('request.malformed', { reason: 'nul_character' });
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (FORM_TYPES.has(type)) {
    let form: Record<string, unknown>;
    try {
      // Parsed here, not by Hono, which parses through a web Response (multipart bodies still are).
      if (type === 'application/x-www-form-urlencoded')
        bodyCache(c).formData ??= Promise.resolve(urlencodedForm((await cacheText(c)).decoded));
      form = await c.req.parseBody({ all: true });
    } catch {
      throw new DomainError('request.malformed', { reason: 'form_unreadable' });
    }
    if (hasNul(form)) throw new DomainError('request.malformed', { reason: 'nul_character' });
  } else if (type === 'application/json' || type.endsWith('+json')) {
    const { bytes: raw, decoded: text } = await cacheText(c);
    // Cheap test first (a NUL byte, or the \u0000 escape in any case); parse only then, so a literal
    // backslash-u-0000 text inside a string is not mistaken for a NUL. Unparseable JSON is the route's to refuse.
    if (raw.includes(0) || /\\u0000/i.test(text)) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (raw.includes(0) || hasNul(value)) throw new DomainError('request.malformed', { reason: 'nul_character' });
    }
  }
  await next();
}

/** Creates a service's root app with the platform's middleware and endpoints mounted. */
export function createServiceApp(opts: ServiceAppOptions) {
  const app = createRouter<AppEnv>();
  const { log, metrics } = opts;
  if (opts.hsts) app.use('*', strictTransportSecurity);

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && SAFE_REQUEST_ID.test(given) ? given : newId('req');
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await withRequestId(requestId, next);
    const seconds = (performance.now() - started) / 1000;
    // The handler's pattern, not a wildcard middleware's (those match every path and come as 'ALL').
    const route = matchedRoutes(c).find((r) => r.method !== 'ALL')?.path ?? 'unmatched';
    metrics.observe(c.req.method, route, c.res.status, seconds);
    if (route !== '/metrics' && route !== '/healthz' && route !== '/readyz') {
      withRequestId(requestId, () =>
        log.info(
          { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000) },
          'request',
        ),
      );
    }
  });

  app.use('*', limitBody);
  app.use('*', refuseUnreadableInput);

  app.onError((err, c) => {
    const { status, body } = withRequestId(c.get('requestId') ?? 'unknown', () => errorResponse(err, log));
    return c.json(body, status as 400);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'Nothing is here.' } }, 404));

  app.get('/healthz', (c) => c.json({ status: 'ok', service: opts.name }));
  app.get('/readyz', async (c) => {
    const ok = await opts.ready().catch(() => false);
    return c.json({ status: ok ? 'ready' : 'not ready', service: opts.name }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('content-type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: `countersign ${opts.name}`, version: opts.version ?? '0.1.0' },
  });
  return app;
}
