// Crash matrix for the shop's mail: the mail process killed with SIGKILL at each mail crash point —
// 'shop.mail.after_enqueue' (the mail and its job written, not committed), 'shop.mail.before_send' (job
// claimed, SMTP not yet given the mail), 'shop.mail.after_send' (SMTP accepted, `sent` not recorded) —
// then run again. At the catcher (a real SMTP process): 0 lost and 0 duplicate receipts, counted as
// distinct Message-IDs per order; a kill after the send may deliver a second copy, which carries the
// same Message-ID and so is the same receipt (at-least-once SMTP, exactly-once by Message-ID).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { CrashPointName } from '../src/platform/crash-points.ts';
import { openDatabase, type Database } from '../src/platform/db/database.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import { jobs } from '../src/platform/jobs/jobs.schema.ts';
import { shopMails } from '../src/shop/mail/mail.schema.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { startCatcherProcess, type CatcherProcess } from './support/mail.ts';
import { paidOrderWithoutMail } from './support/mail-orders.ts';

function runMailProcess(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/mail-crash-worker.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('crash matrix (mail): SIGKILL at each mail step, restart, then exactly one receipt per paid invoice by Message-ID', () => {
  let catcher: CatcherProcess;
  let database: Database;
  let url = '';

  before(async () => {
    catcher = await startCatcherProcess();
    url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url, poolSize: 2 });
    await ensureDemoData(database, new Date());
  });
  after(async () => {
    await database?.close();
    await catcher?.stop();
  });

  const points: CrashPointName[] = ['shop.mail.after_enqueue', 'shop.mail.before_send', 'shop.mail.after_send'];
  for (const point of points) {
    it(`${point}: the killed step is redone and the customer has one receipt`, async () => {
      const { orderId, invoiceId } = await paidOrderWithoutMail(database);
      const base = {
        MAIL_CRASH_DB_URL: url,
        MAIL_CRASH_SMTP_URL: catcher.smtpUrl,
        MAIL_CRASH_ORDER: orderId,
        MAIL_CRASH_INVOICE: invoiceId,
      };
      const rows = () => database.db.select().from(shopMails).where(eq(shopMails.orderId, orderId));
      if (point === 'shop.mail.after_enqueue') {
        assert.equal(
          (await runMailProcess({ ...base, MAIL_CRASH_MODE: 'enqueue', COUNTERSIGN_CRASH_AT: point })).signal,
          'SIGKILL',
          'the crash point fired',
        );
        assert.equal((await rows()).length, 0, 'killed before the commit: no mail, no job');
        assert.equal(
          (await runMailProcess({ ...base, MAIL_CRASH_MODE: 'enqueue' })).code,
          0,
          'the cause again (the webhook redelivered)',
        );
      } else {
        assert.equal((await runMailProcess({ ...base, MAIL_CRASH_MODE: 'enqueue' })).code, 0);
        assert.equal(
          (await runMailProcess({ ...base, MAIL_CRASH_MODE: 'work', COUNTERSIGN_CRASH_AT: point })).signal,
          'SIGKILL',
          'the crash point fired',
        );
      }
      // The cause once more (a late redelivery) records nothing new; then the mail process runs to the end.
      assert.equal((await runMailProcess({ ...base, MAIL_CRASH_MODE: 'enqueue' })).code, 0);
      assert.equal((await runMailProcess({ ...base, MAIL_CRASH_MODE: 'work' })).code, 0);
      const [mail, ...extra] = await rows();
      assert.equal(extra.length, 0, 'one mail row');
      assert.equal(mail!.status, 'sent');
      assert.equal(
        (
          await database.db
            .select()
            .from(jobs)
            .where(eq(jobs.key, `mail:receipt:${invoiceId}`))
        ).length,
        1,
      );
      const copies = (await catcher.waitFor((m) => m.some((x) => x.subject.includes(orderId)))).filter((m) =>
        m.subject.includes(orderId),
      );
      const distinct = new Set(copies.map((m) => m.messageId));
      assert.deepEqual([...distinct], [mail!.messageId], '0 lost, 0 duplicate receipts by Message-ID');
      if (point !== 'shop.mail.after_send') assert.equal(copies.length, 1, 'killed before the send: delivered once');
      else assert.ok(copies.length <= 2, `at most the one resend (${copies.length})`);
    });
  }
});
