import type pg from 'pg';

// Every statement the services send is one of a few hundred shapes (drizzle renders the same text
// for the same query), yet node-postgres parses and plans each one anew unless the query carries a
// name. Naming each parameterised text on its connection makes PostgreSQL parse it once per
// connection and only bind and execute it afterwards — what postgres.js and JDBC do by default.
// pg itself has no such switch, so this small wrapper does it (no library offers it for pg.Pool).

/** Statements kept prepared per connection; texts beyond it run unnamed, as before. */
export const PREPARED_PER_CONNECTION = 300;

// Transaction control gains nothing from a plan, and pg_stat_statements stops counting it when prepared.
const UTILITY = /^\s*(begin|commit|rollback|savepoint|release|start|set|listen|unlisten)\b/i;

/** Wraps `client.query` so a parameterised query config runs as a named prepared statement. */
export function autoPrepare(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const cfg = args[0] as Partial<pg.QueryConfig> | string | undefined;
    if (cfg && typeof cfg === 'object' && typeof cfg.text === 'string' && !cfg.name) {
      if (!cfg.text.includes(';') && !UTILITY.test(cfg.text)) {
        let name = names.get(cfg.text);
        if (name === undefined && names.size < PREPARED_PER_CONNECTION) {
          name = `cs_${names.size + 1}`;
          names.set(cfg.text, name);
        }
        if (name !== undefined) args[0] = { ...cfg, name };
      }
    }
    return query(...args);
  };
}
