// Stripe's wire format: form-encoded bodies with nested keys (`line_items[0][price_data][currency]`,
// `metadata[order]`, `expand[]`), parsed with qs under bounds, and the readers that turn a parameter
// into a value or a 400 naming it.
import type { Context } from 'hono';
import qs from 'qs';
import { invalidParam, StripeApiError } from './errors.ts';

export type Params = Record<string, unknown>;

const QS_OPTIONS = {
  depth: 5,
  arrayLimit: 100,
  parameterLimit: 1000,
  allowPrototypes: false,
  plainObjects: true,
} as const;

function parse(text: string): Params {
  return qs.parse(text, QS_OPTIONS) as Params;
}

/**
 * The request's parameters in a canonical string (the idempotency fingerprint) and parsed: the query
 * string for GET and DELETE, the form body for POST. A POST body in anything but form encoding is
 * Stripe's 400. The platform has already read (and cached) a form body as FormData; it is
 * re-serialised in its order, which is the order the client sent.
 */
export async function readParams(c: Context): Promise<{ canonical: string; params: Params }> {
  if (c.req.method !== 'POST') {
    const query = new URL(c.req.url).search.replace(/^\?/, '');
    return { canonical: query, params: parse(query) };
  }
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = await c.req.formData();
    const pairs = new URLSearchParams();
    let files = false;
    form.forEach((v, k) => {
      if (typeof v === 'string') pairs.append(k, v);
      else files = true;
    });
    if (files) throw notForm();
    const canonical = pairs.toString();
    return { canonical, params: parse(canonical) };
  }
  const body = await c.req.text();
  if (body.length === 0) return { canonical: '', params: {} };
  throw notForm();
}

function notForm(): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    message:
      'Invalid request (check that your POST content type is application/x-www-form-urlencoded). Request bodies are form-encoded, as Stripe expects.',
  });
}

/** A string parameter, or undefined when absent; 400 when present but not a string. */
export function str(params: Params, name: string, path = name, max = 5000): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParam(path, `Invalid string: ${path}`);
  if (v.length > max) throw invalidParam(path, `Invalid string: ${path} must be at most ${max} characters`);
  return v;
}

/** A required string parameter. */
export function requiredStr(params: Params, name: string, path = name, max = 5000): string {
  const v = str(params, name, path, max);
  if (v === undefined || v === '') throw invalidParam(path, `Missing required param: ${path}.`, 'parameter_missing');
  return v;
}

/** A non-negative integer parameter (Stripe's amounts and quantities), or undefined when absent. */
export function int(params: Params, name: string, path = name): number | undefined {
  const v = str(params, name, path, 20);
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v)) throw invalidParam(path, `Invalid integer: ${v.slice(0, 20)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw invalidParam(path, `Invalid integer: ${v.slice(0, 20)}`);
  return n;
}

/** A boolean parameter ("true" / "false"), or undefined when absent. */
export function bool(params: Params, name: string, path = name): boolean | undefined {
  const v = str(params, name, path, 5);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw invalidParam(path, `Invalid boolean: ${v}`);
  return v === 'true';
}

/** One of a closed set of values, or undefined when absent. */
export function oneOf<T extends string>(
  params: Params,
  name: string,
  values: readonly T[],
  path = name,
): T | undefined {
  const v = str(params, name, path, 100);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v))
    throw invalidParam(path, `Invalid ${path}: must be one of ${values.join(', ')}`);
  return v as T;
}

/** A nested hash parameter (`payment_intent_data[...]`), or an empty one when absent. */
export function hash(params: Params, name: string, path = name): Params {
  const v = params[name];
  if (v === undefined || v === '') return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParam(path, `Invalid hash: ${path}`);
  return v as Params;
}

/** A list parameter (`line_items[0][…]` or `line_items[][…]`), as an array. */
export function list(params: Params, name: string): unknown[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v;
  // qs turns indexes beyond arrayLimit into an object: refuse rather than guess.
  throw invalidParam(name, `Invalid array: ${name}`);
}

/** Stripe's metadata: at most 50 keys of up to 40 characters, values up to 500; "" unsets (here: omitted). */
export function metadata(params: Params, name = 'metadata', path = name): Record<string, string> {
  const given = hash(params, name, path);
  const out: Record<string, string> = {};
  const keys = Object.keys(given);
  if (keys.length > 50) throw invalidParam(path, 'Invalid metadata: at most 50 keys.');
  for (const key of keys) {
    const v = given[key];
    if (typeof v !== 'string' || key.length > 40 || v.length > 500)
      throw invalidParam(
        `${path}[${key.slice(0, 40)}]`,
        'Invalid metadata: keys up to 40 characters, values up to 500.',
      );
    if (v !== '') out[key] = v;
  }
  return out;
}

/** The `expand[]` list of a request. */
export function expand(params: Params): string[] {
  const v = params.expand;
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.filter((x): x is string => typeof x === 'string');
}

/** An absolute http(s) URL parameter, or undefined when absent. */
export function url(params: Params, name: string, path = name): string | undefined {
  const v = str(params, name, path, 5000);
  if (v === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v.replaceAll('{CHECKOUT_SESSION_ID}', 'x'));
  } catch {
    throw invalidParam(path, 'Not a valid URL', 'url_invalid');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw invalidParam(path, 'Not a valid URL', 'url_invalid');
  return v;
}

/** Stripe refuses parameters it does not know: so do we (`expand` is always allowed). */
export function allowOnly(params: Params, known: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (key !== 'expand' && !known.includes(key))
      throw invalidParam(key, `Received unknown parameter: ${key.slice(0, 100)}`, 'parameter_unknown');
  }
}
