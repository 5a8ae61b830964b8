// `--scale`: the webhook intake (bench/intake.ts's scenario) against the seeded shop: its database is
// copied (CREATE DATABASE … TEMPLATE, the system stopped), the copy gets fresh open invoices
// (bench/intake/seed.ts), the shop runs on it alone with a counting gateway, and correctly signed
// `payment.authorized` deliveries are fired at it. The copy is dropped after, so the seeded data stays
// as the seeding left it. Size 0 is the database right after the template order: the reference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { openDatabase } from '../src/platform/db/database.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { fireDeliveries } from './intake/load.ts';
import { seedInvoices } from './intake/seed.ts';
import { startCountingGateway, startShopProcess } from './intake/shop-process.ts';
import type { ScaleContext } from './scale.ts';
import { withDatabase } from './system.ts';

export interface ScaleIntake {
  readonly concurrency: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly accepted: number;
  readonly errors: number;
  readonly exhausted: boolean;
}

export async function scaleIntake(ctx: ScaleContext, size: number, say: (l: string) => void): Promise<ScaleIntake> {
  const copy = `${ctx.names.shop}_intake`;
  const admin = new pg.Client({ connectionString: ctx.adminUrl });
  await admin.connect();
  const work = mkdtempSync(join(tmpdir(), 'cs-scale-intake-'));
  const gateway = await startCountingGateway();
  let shop: Awaited<ReturnType<typeof startShopProcess>> | undefined;
  try {
    await admin.query(`drop database if exists "${copy}"`);
    // A copy needs the source to itself: autovacuum's workers are asked to leave (a few tries).
    for (let attempt = 1; ; attempt++) {
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [ctx.names.shop]);
      try {
        await admin.query(`create database "${copy}" template "${ctx.names.shop}"`);
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const url = withDatabase(ctx.adminUrl, copy);
    const database = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url, poolSize: 2 });
    const perSecondGuess = 600;
    const warm = await seedInvoices(database, 1500, 'W');
    const batch = await seedInvoices(database, Math.ceil(perSecondGuess * ctx.o.intakeSeconds * 1.5), 'M');
    await database.close();
    const secret = newWebhookSecret();
    shop = await startShopProcess({
      database: { url },
      webhookSecret: secret,
      gatewayUrl: gateway.url,
      logFile: join(work, 'shop.log'),
    });
    const concurrency = ctx.o.intakeConcurrency;
    await fireDeliveries({ shopUrl: shop.url, secret, batch: warm, concurrency, seconds: 3 });
    const r = await fireDeliveries({ shopUrl: shop.url, secret, batch, concurrency, seconds: ctx.o.intakeSeconds });
    say(
      `  intake at ${size}: ${r.perSecond.toFixed(1)} deliveries/s at c=${concurrency}, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms${r.errors ? `, ${r.errors} errors (${r.errorSamples[0]})` : ''}${r.exhausted ? ' (batch exhausted)' : ''}`,
    );
    return {
      concurrency,
      perSecond: Math.round(r.perSecond * 10) / 10,
      p50Ms: Math.round(r.p50Ms * 100) / 100,
      p99Ms: Math.round(r.p99Ms * 100) / 100,
      accepted: r.accepted,
      errors: r.errors,
      exhausted: r.exhausted,
    };
  } finally {
    await shop?.stop().catch(() => undefined);
    await gateway.close();
    await admin.query(`drop database if exists "${copy}" with (force)`).catch(() => undefined);
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  }
}
