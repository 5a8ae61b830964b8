// "Pay now" reads the cart's lines after it holds the cart's lock, never in the statement that waits
// for it: a line another request added, committed while the order waited, must be in the order
// (a read from the snapshot taken before the wait would freeze the cart as it was).
import assert from 'node:assert/strict';
import { setTimeout as pause } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import { rows, type Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { placeOrder } from '../src/shop/commands/place-order.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { addToCart, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { orderLines, users } from '../src/shop/storage/tables.ts';
import { address } from './support/factories.ts';

/** Waits until some session of the database waits for a row lock (PostgreSQL; PGlite runs one at a time). */
async function someoneWaitsForALock(database: Database, engine: string): Promise<void> {
  if (engine !== 'postgres') return pause(50).then(() => undefined);
  for (let i = 0; i < 250; i++) {
    const [row] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
    );
    if (row!.n > 0) return;
    await pause(20);
  }
  throw new Error('no session waited for the lock within 5 s');
}

for (const engine of testEngines()) {
  describe(`Pay now and a line added meanwhile, on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
    });
    after(async () => {
      await database.close();
    });

    it('orders the line that was committed while the order waited for the cart', async () => {
      const db = database.db;
      const [user] = await db.select().from(users).where(eq(users.email, 'customer@shop.test'));
      const [first, second] = await listProducts(db);
      await addToCart(db, user!.id, first!.id, 1, clock.now());
      await chooseCartDelivery(db, user!.id, (await listDeliveryMethods(db))[0]!.id, clock.now());
      await saveCartAddress(db, user!.id, address({ country: 'DE' }), clock.now());

      let ordering: Promise<unknown> | undefined;
      await database.transaction(async (tx) => {
        // Adding to the cart takes the cart's row lock (its upsert) and keeps it to the commit.
        await addToCart(tx, user!.id, second!.id, 2, clock.now());
        ordering = placeOrder(db, user!.id, clock.now());
        await someoneWaitsForALock(database, engine);
      });
      const order = (await ordering) as { id: string };
      const lines = await db.select().from(orderLines).where(eq(orderLines.orderId, order.id));
      assert.deepEqual(
        lines.map((l) => [l.productId, l.quantity]).sort(),
        [
          [first!.id, 1],
          [second!.id, 2],
        ].sort(),
      );
    });
  });
}
