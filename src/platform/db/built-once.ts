// Queries whose SQL is rendered once per process instead of once per run. Drizzle builds a query's
// object tree and renders its text on every call: 50–220 µs for a select with joins, which the
// profile puts at about a tenth of each service's CPU (bench/README, "Where the CPU goes"). A hot
// query written with builtOnce is built from placeholders the first time it runs and afterwards only
// bound: its text, parameters and result mapping are kept, and each run fills in the values.
//
// drizzle's own `.prepare()` ties a query to the connection it was built on (the pool, or one
// transaction), so it cannot serve a transaction opened later. This keeps what it rendered and asks
// each executor's session for a prepared query of that text (PgSession.prepareQuery), which is how
// drizzle's builders run themselves. Written here because drizzle has no such cache.
import { sql, type Column, type SQL } from 'drizzle-orm';
import { PgDialect, type PgPreparedQuery, type PreparedQueryConfig } from 'drizzle-orm/pg-core';
import type { Executor } from './database.ts';

type Prepared = PgPreparedQuery<PreparedQueryConfig>;
type PrepareQueryArgs = Parameters<Executor['_']['session']['prepareQuery']>;

/** What a prepared query of either driver keeps besides its text (pglite's and node-postgres' alike). */
interface Rendered {
  readonly query: PrepareQueryArgs[0];
  readonly fields: PrepareQueryArgs[1];
  readonly arrayMode: boolean;
  readonly customResultMapper: PrepareQueryArgs[4];
  readonly joinsNotNullableMap: unknown;
}

interface PreparedInternals {
  fields: PrepareQueryArgs[1];
  _isResponseInArrayMode: boolean;
  customResultMapper: PrepareQueryArgs[4];
  joinsNotNullableMap: unknown;
}

/**
 * A value filled in at each run, encoded as `column` encodes its values (a Date for a timestamp
 * column, say), null as NULL: in a condition, or as the value an insert or update sets.
 * Placeholders are the only way a run's values reach a builtOnce query.
 */
export function slot(name: string, column: Column): SQL {
  // A null goes as NULL, as drizzle's own parameters do: the column's encoder is not asked (a json
  // column's would write the JSON value null, a timestamp's would throw).
  const encoder = { mapToDriverValue: (value: unknown) => (value === null ? null : column.mapToDriverValue(value)) };
  return sql`${sql.param(sql.placeholder(name), encoder)}`;
}

/**
 * Wraps the build of a prepared query (`(on) => on.select()….prepare(name)`) so that it runs once
 * per driver: later calls, on any database or transaction of that driver, reuse the rendered text and
 * mapping. The name is drizzle's and goes unused: on PostgreSQL every statement is prepared by name
 * on its connection anyway (auto-prepare.ts). `build` must take every value from placeholders
 * (slot(), sql.placeholder()): anything else it reads is rendered into the text for good. Define it
 * at module level, where no run's value is in scope.
 */
export function builtOnce<Q extends Prepared>(build: (on: Executor) => Q): (on: Executor) => Q {
  // Keyed by the session's class: PGlite and node-postgres each render once. Only the rendered text
  // and mapping are kept, never the executor the first build ran on.
  const rendered = new Map<unknown, Rendered>();
  return (on) => {
    const session = on._.session;
    let r = rendered.get(session.constructor);
    if (r === undefined) {
      const first = build(on);
      const internals = first as unknown as PreparedInternals;
      r = {
        query: first.getQuery(),
        fields: internals.fields,
        arrayMode: internals._isResponseInArrayMode,
        customResultMapper: internals.customResultMapper,
        joinsNotNullableMap: internals.joinsNotNullableMap,
      };
      rendered.set(session.constructor, r);
    }
    const q = session.prepareQuery(r.query, r.fields, undefined, r.arrayMode, r.customResultMapper);
    (q as unknown as PreparedInternals).joinsNotNullableMap = r.joinsNotNullableMap;
    return q as unknown as Q;
  };
}

/**
 * A statement written as SQL (sql`…`, its values as sql.placeholder(name)) rendered once, then run
 * for its rows with each run's values. Both engines' databases use drizzle's PostgreSQL dialect as
 * configured here (no casing option), so one rendering serves both.
 */
export function sqlOnce<R>(statement: () => SQL): (on: Executor, values: Record<string, unknown>) => Promise<R[]> {
  let query: PrepareQueryArgs[0] | undefined;
  return async (on, values) => {
    query ??= new PgDialect().sqlToQuery(statement());
    const result = await on._.session.prepareQuery(query, undefined, undefined, false).execute(values);
    return (result as unknown as { rows: R[] }).rows;
  };
}
