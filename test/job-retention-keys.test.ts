// Job retention frees dedupe keys: once a succeeded job is pruned, an enqueue with its key makes a new
// job. The riskiest key is the gateway's `settle:<session>` (six producers; its task captures or voids
// at the bank and posts the ledger). Over HTTP against the real gateway on both engines (a fake issuer
// that records its calls, a real webhook receiver): after the retention run deleted the settle job of a
// captured payment, the same key re-enqueued runs again and captures nothing twice, posts nothing
// twice and sends the merchant no second event — the task is idempotent on the session's state.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows } from '../src/platform/db/database.ts';
import { testEngines } from '../src/platform/db/testing.ts';
import { systemClock } from '../src/platform/clock.ts';
import { enqueue } from '../src/platform/jobs/enqueue.ts';
import { pruneFinishedJobs } from '../src/platform/jobs/prune.ts';
import { SETTLE_TASK } from '../src/gateway/jobs/task-names.ts';
import { sessionTransfers } from '../src/gateway/storage/ledger.ts';
import { eventually, startTestGateway, webhookReceiver } from '../src/gateway/testing.ts';
import { sessionHelpers } from './support/gateway-sessions.ts';

const DAY = 86_400_000;

for (const engine of testEngines()) {
  describe(`job retention and dedupe keys (${engine})`, () => {
    let gw: Awaited<ReturnType<typeof startTestGateway>>;
    let shop: Awaited<ReturnType<typeof webhookReceiver>>;
    const { newSession, pay, settled } = sessionHelpers(() => gw, `retention_${engine}`);

    before(async () => {
      shop = await webhookReceiver();
      shop.setRespond((_r, res) => void res.writeHead(200).end('{}'));
      gw = await startTestGateway(engine, { webhookUrl: shop.url });
    });
    after(async () => {
      await gw?.stop();
      await shop?.close();
    });

    const jobOf = async (key: string) =>
      (
        await rows<{ id: string; status: string }>(gw.database.db, sql`select id, status from jobs where key = ${key}`)
      )[0];
    const succeeded = (key: string) =>
      eventually(async () => ((await jobOf(key))?.status === 'succeeded' ? true : undefined), 15_000, `${key} done`);
    const transfers = async (id: string) =>
      (await sessionTransfers(gw.database.db, id)).map((t) => `${t.phase}:${t.kind}:${t.amountMinor}`).sort();

    it('registers the recurring retention job', async () => {
      const [job] = await rows<{ repeat_seconds: number }>(
        gw.database.db,
        sql`select repeat_seconds from jobs where key = 'recurring:gateway.prune_finished_jobs'`,
      );
      assert.equal(job?.repeat_seconds, 3600);
    });

    it('a settle job re-enqueued after its predecessor was pruned captures nothing twice, posts nothing twice, tells the merchant nothing twice', async () => {
      const id = await newSession();
      await pay(id);
      assert.equal((await settled(id)).status, 'captured');
      const key = `settle:${id}`;
      await succeeded(key);
      const captures = () => gw.issuer.calls.filter((c) => c.startsWith('capture:')).length;
      const capturesBefore = captures();
      const transfersBefore = await transfers(id);
      await eventually(() => (shop.eventsFor(id).some((e) => e.type === 'payment.captured') ? true : undefined));
      const eventsBefore = shop.eventsFor(id).map((e) => e.type);
      assert.deepEqual(eventsBefore, ['payment.authorized', 'payment.captured']);
      assert.ok(transfersBefore.includes('post:capture:2500'));
      const first = (await jobOf(key))!.id;

      // The retention run as it runs 8 days on (7 days' retention): the settle job is history.
      assert.ok((await pruneFinishedJobs(gw.database.db, new Date(Date.now() + 8 * DAY - 7 * DAY))) >= 1);
      assert.equal(await jobOf(key), undefined, 'the succeeded settle job was deleted');

      // Any of the six producers enqueues it again (a late acknowledgement, a refusal, a cancel, a timeout).
      const second = await enqueue(gw.database.db, { task: SETTLE_TASK, payload: { sessionId: id }, key }, systemClock);
      assert.ok(second && second !== first, 'the freed key made a new job');
      await succeeded(key);

      assert.equal(captures(), capturesBefore, 'no second capture at the bank');
      assert.deepEqual(await transfers(id), transfersBefore, 'no second posting in the ledger');
      assert.equal((await settled(id)).status, 'captured');
      // Give a stray event the time to arrive: none does.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        shop.eventsFor(id).map((e) => e.type),
        eventsBefore,
        'no second event to the merchant',
      );
    });
  });
}
