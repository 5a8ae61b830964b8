// A mail process for the mail crash matrix: against the shop's PostgreSQL database (MAIL_CRASH_DB_URL),
// either records a receipt mail in a transaction (MAIL_CRASH_MODE=enqueue, for MAIL_CRASH_ORDER and
// MAIL_CRASH_INVOICE) or runs the shop's mail send job until every mail is sent (MAIL_CRASH_MODE=work,
// SMTP at MAIL_CRASH_SMTP_URL). COUNTERSIGN_CRASH_AT makes it die with SIGKILL at a mail crash point.
import { eq } from 'drizzle-orm';
import { systemClock } from '../../src/platform/clock.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { createWorker } from '../../src/platform/jobs/jobs.ts';
import { loadMailConfig } from '../../src/shop/mail/config.ts';
import { shopMails } from '../../src/shop/mail/mail.schema.ts';
import { enqueueMail } from '../../src/shop/mail/outbox.ts';
import { mailTasks, smtpTransport } from '../../src/shop/mail/send.ts';
import { shopDatabaseSpec } from '../../src/shop/main.ts';

const env = process.env;
const database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url: env.MAIL_CRASH_DB_URL!, poolSize: 2 });
if (env.MAIL_CRASH_MODE === 'enqueue') {
  await database.transaction((tx) =>
    enqueueMail(
      tx,
      {
        kind: 'receipt',
        subjectId: env.MAIL_CRASH_INVOICE!,
        orderId: env.MAIL_CRASH_ORDER!,
        invoiceId: env.MAIL_CRASH_INVOICE!,
      },
      new Date(),
    ),
  );
} else {
  const config = loadMailConfig({ SHOP_SMTP_URL: env.MAIL_CRASH_SMTP_URL, SHOP_SMTP_TIMEOUT_MS: '3000' });
  const quiet = { info() {}, warn() {}, error() {} };
  const worker = createWorker({
    database,
    clock: systemClock,
    log: quiet,
    pollIntervalMs: 100,
    leaseSeconds: 2,
    tasks: mailTasks({
      database,
      clock: systemClock,
      config,
      publicUrl: 'http://shop.test',
      transport: smtpTransport(config),
      log: { warn() {} } as never,
    }),
  });
  await worker.start();
  for (let i = 0; i < 300; i++) {
    const queued = await database.db.select({ id: shopMails.id }).from(shopMails).where(eq(shopMails.status, 'queued'));
    if (queued.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await worker.stop();
}
await database.close();
process.exit(0);
