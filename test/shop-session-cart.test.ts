// The cart and checkout pages read the session's user and their open cart in one statement: it must
// show each customer their own cart, the same view as reading the cart alone, and nothing for a
// session that expired or was logged out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { fakeClock } from '../src/platform/clock.ts';
import type { Database } from '../src/platform/db/database.ts';
import { freshDatabase, testEngines } from '../src/platform/db/testing.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import * as accounts from '../src/shop/storage/accounts.ts';
import { addToCart, cartView, chooseCartDelivery, saveCartAddress } from '../src/shop/storage/cart.ts';
import { archiveProduct, listDeliveryMethods, listProducts } from '../src/shop/storage/catalog.ts';
import { ensureDemoData } from '../src/shop/storage/demo-data.ts';
import { carts, users } from '../src/shop/storage/tables.ts';
import { address } from './support/factories.ts';

for (const engine of testEngines()) {
  describe(`the session read with the cart, on ${engine}`, () => {
    let database: Database;
    const clock = fakeClock(Date.UTC(2026, 0, 1, 12));
    let customerId: string;

    before(async () => {
      database = await freshDatabase(shopDatabaseSpec, engine);
      await ensureDemoData(database, clock.now());
      customerId = (await database.db.select().from(users).where(eq(users.email, 'customer@shop.test')))[0]!.id;
    });
    after(async () => {
      await database.close();
    });

    it("gives each customer their own cart, lines in order with the address, as the cart's own read does", async () => {
      const db = database.db;
      const other = await accounts.createUser(
        db,
        { email: 'second-buyer@example.test', name: 'Other', password: 'another-long-password' },
        clock.now(),
      );
      const [first, second, third] = await listProducts(db);
      await addToCart(db, customerId, first!.id, 2, clock.now());
      clock.advance(1000);
      await addToCart(db, customerId, second!.id, 1, clock.now());
      await chooseCartDelivery(db, customerId, (await listDeliveryMethods(db))[0]!.id, clock.now());
      await saveCartAddress(db, customerId, address({ city: 'Lyon', country: 'FR' }), clock.now());
      await addToCart(db, other.id, third!.id, 5, clock.now());
      await archiveProduct(db, second!.id, 'usr_staff', clock.now());

      const mine = await accounts.createLoginSession(db, customerId, clock.now(), 60);
      const theirs = await accounts.createLoginSession(db, other.id, clock.now(), 60);
      const found = await accounts.userAndCartViewForSession(db, mine, clock.now());
      assert.equal(found?.user.id, customerId);
      assert.equal(found?.cartCount, 3, 'the badge counts every item, the archived product included');
      assert.deepEqual(found?.cart, await cartView(db, customerId, clock.now()));
      assert.deepEqual(
        found?.cart?.lines.map((l) => [l.product.id, l.quantity, l.product.archived]),
        [
          [first!.id, 2, false],
          [second!.id, 1, true],
        ],
      );
      assert.equal(found?.cart?.address?.city, 'Lyon');

      const found2 = await accounts.userAndCartViewForSession(db, theirs, clock.now());
      assert.equal(found2?.user.id, other.id);
      assert.deepEqual(
        found2?.cart?.lines.map((l) => [l.product.id, l.quantity]),
        [[third!.id, 5]],
      );
      assert.equal(found2?.cart?.address, undefined);
    });

    it('answers a user without an open cart with no cart and a zero badge, and creates nothing', async () => {
      const db = database.db;
      const fresh = await accounts.createUser(
        db,
        { email: 'no-cart-yet@example.test', name: 'Fresh', password: 'a-fresh-long-password' },
        clock.now(),
      );
      const token = await accounts.createLoginSession(db, fresh.id, clock.now(), 60);
      const found = await accounts.userAndCartViewForSession(db, token, clock.now());
      assert.equal(found?.user.id, fresh.id);
      assert.equal(found?.cartCount, 0);
      assert.equal(found?.cart, undefined);
      assert.equal((await db.select().from(carts).where(eq(carts.userId, fresh.id))).length, 0);
    });

    it('finds nothing for an expired, logged-out or unknown session', async () => {
      const db = database.db;
      const token = await accounts.createLoginSession(db, customerId, clock.now(), 60);
      const later = new Date(clock.now().getTime() + 61_000);
      assert.equal(await accounts.userAndCartViewForSession(db, token, later), undefined);
      await accounts.deleteLoginSession(db, token);
      assert.equal(await accounts.userAndCartViewForSession(db, token, clock.now()), undefined);
      assert.equal(await accounts.userAndCartViewForSession(db, 'not-a-token', clock.now()), undefined);
      assert.equal(await accounts.userAndCartViewForSession(db, '', clock.now()), undefined);
    });
  });
}
