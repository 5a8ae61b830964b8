// Run after `npm install`: builds the blank PGlite cluster once (seconds of initdb), so that the
// first `npm start` and the first test copy it instead of each paying for initdb.
import { ensureTemplate } from '../src/platform/db/pglite-template.ts';
import { PGlite } from '@electric-sql/pglite';

const started = Date.now();
const dir = await ensureTemplate('blank', async (d) => {
  const pg = await PGlite.create({ dataDir: d });
  await pg.close();
});
console.log(`countersign: embedded PostgreSQL template ready in ${Date.now() - started} ms (${dir})`);
