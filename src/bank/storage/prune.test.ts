// The bank's retention run on both engines: time-window rows past their window, real-time messages
// older than a day and jobs that succeeded before the retention go; younger rows, failed, pending and
// recurring jobs stay.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { fakeClock } from '../../platform/clock.ts';
import { rows, type Database } from '../../platform/db/database.ts';
import { freshDatabase, testEngines } from '../../platform/db/testing.ts';
import { createWorker, enqueue, registerRecurring } from '../../platform/jobs/jobs.ts';
import { publish } from '../../platform/realtime/index.ts';
import { bankDatabaseSpec } from '../main.ts';
import { pruneBank } from './prune.ts';
import { gatewayRequests } from './tables.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 3, 1, 8);
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

for (const engine of testEngines()) {
  describe(`bank retention (${engine})`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(bankDatabaseSpec, engine);
    });
    after(async () => {
      await database.close();
    });
    const keys = async () =>
      (await rows<{ k: string }>(database.db, sql`select key || ':' || status as k from jobs order by key`)).map(
        (r) => r.k,
      );
    const payloads = async () =>
      (await rows<{ p: string }>(database.db, sql`select payload->>'n' as p from realtime_messages order by id`)).map(
        (r) => r.p,
      );

    test('deletes what is past its retention and nothing else', async () => {
      const clock = fakeClock(T0);
      const worker = createWorker({
        database,
        clock,
        log: silent,
        tasks: {
          ok: async () => undefined,
          boom: () => Promise.reject(new Error('boom')),
          sweep: async () => undefined,
        },
      });
      await enqueue(database.db, { task: 'ok', key: 'a-old' }, clock);
      await enqueue(database.db, { task: 'boom', key: 'b-failed', maxAttempts: 1 }, clock);
      await enqueue(database.db, { task: 'ok', key: 'c-later', runAt: new Date(T0 + 30 * DAY) }, clock);
      await registerRecurring(database.db, [{ task: 'sweep', everySeconds: 600 }], clock);
      await worker.runDue();
      await publish(database.db, 'cardholder:ch_old', { n: 'old' }, clock);
      await database.db.insert(gatewayRequests).values({ webhookId: 'msg_old', receivedAt: clock.now() });

      clock.set(T0 + 7 * DAY - 1000);
      await enqueue(database.db, { task: 'ok', key: 'd-young' }, clock);
      await worker.runDue();
      await publish(database.db, 'cardholder:ch_new', { n: 'young' }, clock);

      clock.set(T0 + 7 * DAY + 1);
      const pruned = await pruneBank(database, clock.now(), 7 * DAY);
      assert.deepEqual(pruned, { realtimeMessages: 1, jobs: 1 });
      assert.deepEqual(await keys(), [
        'b-failed:failed',
        'c-later:pending',
        'd-young:succeeded',
        'recurring:sweep:pending',
      ]);
      assert.deepEqual(await payloads(), ['young']);
      assert.deepEqual(await database.db.select().from(gatewayRequests), []);
      assert.deepEqual(await pruneBank(database, clock.now(), 7 * DAY), { realtimeMessages: 0, jobs: 0 });
    });
  });
}
