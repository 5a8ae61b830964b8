// The shop's audit sealer alone in its own process, for the crash tests: it opens the shop's database
// at the URL given as its argument, prints {"event":"ready"} and seals as a shop node does (every 20 ms,
// small batches so a kill often lands mid-batch, or COUNTERSIGN_SEAL_BATCH), until killed. COUNTERSIGN_CRASH_AT may name
// shop.audit.before_seal_commit@n: it then dies with SIGKILL inside its n-th sealing transaction.
import { openDatabase } from '../../src/platform/db/database.ts';
import { createLogger } from '../../src/platform/log.ts';
import { auditSealer } from '../../src/shop/audit/sealer.ts';
import { shopDatabaseSpec } from '../../src/shop/main.ts';

const database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url: process.argv[2]!, poolSize: 2 });
const sealer = auditSealer({
  database,
  log: createLogger('sealer', 'warn'),
  intervalMs: 20,
  batch: Number(process.env.COUNTERSIGN_SEAL_BATCH) || 7,
});
sealer.start();
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
// Keeps the process alive (the sealer's timer is unref'd, as in the shop).
setInterval(() => undefined, 1000);
