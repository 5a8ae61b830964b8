// Keyset paging of the staff console's lists: rows in a stable order, newest first, by (time, id);
// a page is read after or before the key of a row already shown, never at an offset, so rows that
// arrive while someone pages neither repeat nor push older rows out of reach.
import { and, asc, desc, gte, lt, sql, type AnyColumn, type SQL } from 'drizzle-orm';

/** A row's position in a list: its time and its id (the tie-breaker). */
export interface ListKey {
  readonly at: Date;
  readonly id: string;
}

/** What a staff list is asked for: a page size, a side of a key, search and filters (all already checked). */
export interface ListQuery {
  readonly limit: number;
  /** Rows older than this key ("Older"). */
  readonly before?: ListKey | undefined;
  /** Rows newer than this key ("Newer"). */
  readonly after?: ListKey | undefined;
  readonly q?: string | undefined;
  readonly status?: string | undefined;
  /** From this instant (inclusive). */
  readonly from?: Date | undefined;
  /** Up to this instant (exclusive). */
  readonly to?: Date | undefined;
}

/** One page, newest first, with the keys of the neighbouring pages when there are any. */
export interface ListPage<T> {
  readonly rows: T[];
  readonly older?: ListKey | undefined;
  readonly newer?: ListKey | undefined;
}

/** The columns a list is ordered by; `numericId` when the id is a bigint sequence. */
export interface KeyColumns {
  readonly at: AnyColumn;
  readonly id: AnyColumn;
  readonly numericId?: boolean;
}

function keyParam(cols: KeyColumns, key: ListKey): SQL {
  const id = cols.numericId ? sql`${key.id}::bigint` : sql`${key.id}`;
  return sql`(${key.at.toISOString()}::timestamptz, ${id})`;
}

/** The WHERE part of the key and the date range (undefined when neither applies). */
export function keysetWhere(cols: KeyColumns, query: ListQuery): SQL | undefined {
  const parts: SQL[] = [];
  if (query.before) parts.push(sql`(${cols.at}, ${cols.id}) < ${keyParam(cols, query.before)}`);
  else if (query.after) parts.push(sql`(${cols.at}, ${cols.id}) > ${keyParam(cols, query.after)}`);
  if (query.from) parts.push(gte(cols.at, query.from));
  if (query.to) parts.push(lt(cols.at, query.to));
  return parts.length > 0 ? and(...parts) : undefined;
}

/** The ORDER BY of a page: newest first, or oldest first when reading newer rows (reversed afterwards). */
export function keysetOrder(cols: KeyColumns, query: ListQuery): SQL[] {
  return query.after && !query.before ? [asc(cols.at), asc(cols.id)] : [desc(cols.at), desc(cols.id)];
}

/** Turns the `limit + 1` rows read into a page newest first, with the keys of its neighbours. */
export function finishPage<T>(rows: T[], query: ListQuery, keyOf: (row: T) => ListKey): ListPage<T> {
  const more = rows.length > query.limit;
  const shown = rows.slice(0, query.limit);
  if (query.after && !query.before) {
    shown.reverse();
    return {
      rows: shown,
      newer: more && shown.length > 0 ? keyOf(shown[0]!) : undefined,
      older: shown.length > 0 ? keyOf(shown[shown.length - 1]!) : query.after,
    };
  }
  return {
    rows: shown,
    older: more ? keyOf(shown[shown.length - 1]!) : undefined,
    newer: query.before ? (shown.length > 0 ? keyOf(shown[0]!) : query.before) : undefined,
  };
}

/** A row's key from its time and id. */
export const keyOf = (at: Date, id: string | number): ListKey => ({ at, id: String(id) });
