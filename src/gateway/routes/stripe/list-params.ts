// Stripe's list parameters (`limit`, `starting_after`, `ending_before`, `created[gt|gte|lt|lte]`) read
// from a request's parsed parameters, each refused with a 400 naming it, as Stripe does.
import { invalidParam } from './errors.ts';

type Params = Record<string, unknown>;

/** `limit`: 1..100, default 10. */
export function listLimit(params: Params): number {
  const v = params.limit;
  if (v === undefined) return 10;
  if (typeof v !== 'string' || !/^[0-9]{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 100)
    throw invalidParam('limit', 'Invalid integer: limit must be between 1 and 100.');
  return Number(v);
}

/** A cursor id parameter (`starting_after`, `ending_before`), or undefined. */
export function cursorParam(params: Params, name: 'starting_after' | 'ending_before'): string | undefined {
  const v = params[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 100) throw invalidParam(name, `Invalid string: ${name}`);
  return v;
}

const unixParam = (v: unknown, path: string): Date => {
  if (typeof v !== 'string' || !/^[0-9]{1,12}$/.test(v)) throw invalidParam(path, `Invalid timestamp: ${path}`);
  return new Date(Number(v) * 1000);
};

/**
 * `created`: an exact unix time, or a hash of `gt`, `gte`, `lt`, `lte`, as the half-open range of
 * instants it covers. A `created` is whole seconds and the events' times are not: `created[lte]=X`
 * must keep an event of second X (at X.5 s), and `created[gt]=X` must leave it out.
 */
export function createdRange(params: Params): { gte?: Date; lt?: Date } | undefined {
  const v = params.created;
  if (v === undefined || v === '') return undefined;
  const nextSecond = (at: Date) => new Date(at.getTime() + 1000);
  if (typeof v === 'string') {
    const at = unixParam(v, 'created');
    return { gte: at, lt: nextSecond(at) };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParam('created', 'Invalid created');
  let gte: Date | undefined;
  let lt: Date | undefined;
  const from = (at: Date) => (gte = gte === undefined || at > gte ? at : gte);
  const until = (at: Date) => (lt = lt === undefined || at < lt ? at : lt);
  for (const [key, value] of Object.entries(v as Params)) {
    if (key !== 'gt' && key !== 'gte' && key !== 'lt' && key !== 'lte')
      throw invalidParam(`created[${key.slice(0, 20)}]`, 'Received unknown parameter');
    const at = unixParam(value, `created[${key}]`);
    if (key === 'gt') from(nextSecond(at));
    else if (key === 'gte') from(at);
    else if (key === 'lt') until(at);
    else until(nextSecond(at));
  }
  return { ...(gte ? { gte } : {}), ...(lt ? { lt } : {}) };
}
