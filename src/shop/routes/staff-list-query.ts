// The query string of a staff list, read and checked: page size, the opaque cursor of "Newer"/"Older",
// one search box, a status filter and a date range (UTC days, as every staff page shows times in UTC).
// Anything unknown or damaged is refused with a message saying what is allowed (a 400 page).
import type { ListKey, ListPage, ListQuery } from '../storage/keyset.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
const MAX_SEARCH = 200;
const DAY_MS = 86_400_000;

/** What the page echoes back into its form and links (the raw, accepted values). */
export interface ListParams {
  readonly q: string;
  readonly status: string;
  readonly from: string;
  readonly to: string;
  readonly limit: number;
}

export type ParsedList =
  | { readonly ok: true; readonly query: ListQuery; readonly params: ListParams }
  | { readonly ok: false; readonly error: string };

/** The cursor of a row's key: base64url of a small JSON object (opaque to the reader, checked on the way back). */
export function encodeCursor(key: ListKey): string {
  return Buffer.from(JSON.stringify({ t: key.at.toISOString(), i: key.id }), 'utf8').toString('base64url');
}

/** The key of a cursor, or undefined when it is not one we could have written. */
export function decodeCursor(cursor: string): ListKey | undefined {
  if (cursor.length === 0 || cursor.length > 400 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { t, i } = value as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(t)) return undefined;
  if (typeof i !== 'string' || !/^[A-Za-z0-9_]{1,100}$/.test(i)) return undefined;
  const at = new Date(t);
  return Number.isNaN(at.getTime()) || at.toISOString() !== t ? undefined : { at, id: i };
}

/** The start of a UTC day written YYYY-MM-DD, or undefined. */
function utcDay(text: string): Date | undefined {
  if (!/^\d{4}-\d\d-\d\d$/.test(text)) return undefined;
  const d = new Date(`${text}T00:00:00.000Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text ? undefined : d;
}

function readLimit(raw: string | undefined): number | string {
  if (raw === undefined || raw === '') return DEFAULT_PAGE_SIZE;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) return `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}.`;
  return Math.min(Number(raw), MAX_PAGE_SIZE);
}

/** Reads a list's query string; `statuses` are the values its status filter accepts. */
export function parseListQuery(raw: Record<string, string | undefined>, statuses: readonly string[]): ParsedList {
  const limit = readLimit(raw.limit);
  if (typeof limit === 'string') return { ok: false, error: limit };
  const q = (raw.q ?? '').trim();
  if (q.length > MAX_SEARCH) return { ok: false, error: `The search is longer than ${MAX_SEARCH} characters.` };
  const status = raw.status ?? '';
  if (status && !statuses.includes(status))
    return { ok: false, error: `Unknown status "${status.slice(0, 40)}". Allowed: ${statuses.join(', ')}.` };
  const from = raw.from ?? '';
  const to = raw.to ?? '';
  const fromDay = from ? utcDay(from) : undefined;
  const toDay = to ? utcDay(to) : undefined;
  if ((from && !fromDay) || (to && !toDay)) return { ok: false, error: 'Dates must be written YYYY-MM-DD (UTC).' };
  if (fromDay && toDay && fromDay > toDay) return { ok: false, error: 'The "from" date is after the "to" date.' };
  if (raw.before !== undefined && raw.after !== undefined)
    return { ok: false, error: 'A page is either newer or older than another, not both.' };
  const cursor = raw.before ?? raw.after;
  const key = cursor === undefined ? undefined : decodeCursor(cursor);
  if (cursor !== undefined && !key)
    return { ok: false, error: 'This page link is damaged or was changed. Start again from the first page.' };
  const query: ListQuery = {
    limit,
    before: raw.before !== undefined ? key : undefined,
    after: raw.after !== undefined ? key : undefined,
    q: q || undefined,
    status: status || undefined,
    from: fromDay,
    to: toDay ? new Date(toDay.getTime() + DAY_MS) : undefined,
  };
  return { ok: true, query, params: { q, status, from, to, limit } };
}

/** A link to this list with the same search, filters and size, and one cursor. */
export function listHref(path: string, params: ListParams, cursor?: { before?: ListKey; after?: ListKey }): string {
  const search = new URLSearchParams();
  if (params.q) search.set('q', params.q);
  if (params.status) search.set('status', params.status);
  if (params.from) search.set('from', params.from);
  if (params.to) search.set('to', params.to);
  if (params.limit !== DEFAULT_PAGE_SIZE) search.set('limit', String(params.limit));
  if (cursor?.before) search.set('before', encodeCursor(cursor.before));
  if (cursor?.after) search.set('after', encodeCursor(cursor.after));
  const s = search.toString();
  return s ? `${path}?${s}` : path;
}

/** The "Newer" and "Older" links of a page (undefined when there is no such page). */
export function pageLinks<T>(
  path: string,
  params: ListParams,
  page: ListPage<T>,
): { newer?: string | undefined; older?: string | undefined } {
  return {
    newer: page.newer ? listHref(path, params, { after: page.newer }) : undefined,
    older: page.older ? listHref(path, params, { before: page.older }) : undefined,
  };
}
