// Demo data at first start, idempotent and safe when several nodes start at once (one advisory lock):
// a customer, a second customer (to see "Access denied"), a staff member, six products in EUR and
// three delivery methods. Each group is created only when missing, so restarts change nothing.
import { eq, sql } from 'drizzle-orm';
import { newId } from '../../core/ids.ts';
import type { Database } from '../../platform/db/database.ts';
import { appendAudit } from './audit.ts';
import { hashPassword } from '../../platform/passwords.ts';
import { deliveryMethods, products, users } from './tables.ts';

/** The demo accounts, as the README names them. */
export const DEMO_ACCOUNTS = [
  { email: 'customer@shop.test', password: 'demo-customer-password', name: 'Demo Customer', role: 'customer' },
  { email: 'other@shop.test', password: 'demo-other-password', name: 'Other Customer', role: 'customer' },
  { email: 'staff@shop.test', password: 'demo-staff-password', name: 'Shop Staff', role: 'staff' },
  // A second staff member: refunds above the approval threshold need someone else's approval.
  { email: 'manager@shop.test', password: 'demo-manager-password', name: 'Shop Manager', role: 'staff' },
] as const;

const DEMO_PRODUCTS = [
  {
    name: 'Enamel mug',
    description: 'A sturdy enamel mug for coffee by the campfire. 350 ml.',
    priceMinor: 1250n,
    imageHue: 12,
  },
  {
    name: 'Linen tea towel',
    description: 'Stonewashed linen, 50 × 70 cm, gets softer with every wash.',
    priceMinor: 990n,
    imageHue: 95,
  },
  {
    name: 'Notebook, dotted',
    description: 'A5, 192 pages of 100 g paper that fountain pens love.',
    priceMinor: 1800n,
    imageHue: 210,
  },
  {
    name: 'Brass pen',
    description: 'Solid brass ballpoint that ages to a warm patina.',
    priceMinor: 3400n,
    imageHue: 45,
  },
  { name: 'Wool socks', description: 'Merino blend, reinforced heel. One pair.', priceMinor: 1595n, imageHue: 330 },
  { name: 'Canvas tote', description: 'Heavy cotton canvas with an inside pocket.', priceMinor: 2200n, imageHue: 160 },
];

const DEMO_DELIVERY = [
  { name: 'Pick-up point', description: 'Collect from a pick-up point near you in 3–5 days.', priceMinor: 290n },
  { name: 'Standard delivery', description: 'To your door in 2–4 working days.', priceMinor: 490n },
  { name: 'Express delivery', description: 'Next working day when ordered before 15:00.', priceMinor: 1290n },
];

/** Creates the demo accounts, products and delivery methods that are missing. */
export async function ensureDemoData(database: Database, now: Date): Promise<void> {
  // Hash outside the transaction: scrypt is slow on purpose and must not hold the lock.
  const hashes = await Promise.all(DEMO_ACCOUNTS.map((a) => hashPassword(a.password)));
  await database.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('countersign:shop:demo-data'))`);
    for (const [i, account] of DEMO_ACCOUNTS.entries()) {
      const [existing] = await tx.select({ id: users.id }).from(users).where(eq(users.email, account.email));
      if (existing) continue;
      const id = newId('usr', now);
      await tx.insert(users).values({
        id,
        email: account.email,
        name: account.name,
        passwordHash: hashes[i]!,
        role: account.role,
        createdAt: now,
      });
      await appendAudit(
        tx,
        { actor: 'system', action: 'user.registered', subject: id, data: { role: account.role, demo: true } },
        now,
      );
    }
    const [{ n: productCount } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(products);
    if (Number(productCount) === 0) {
      for (const [i, p] of DEMO_PRODUCTS.entries()) {
        // Distinct timestamps keep the catalog in this order.
        const at = new Date(now.getTime() + i);
        await tx.insert(products).values({
          id: newId('prd', at),
          name: p.name,
          description: p.description,
          priceMinor: p.priceMinor,
          currency: 'EUR',
          imageHue: p.imageHue,
          createdAt: at,
          updatedAt: at,
        });
      }
    }
    const [{ n: deliveryCount } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(deliveryMethods);
    if (Number(deliveryCount) === 0) {
      for (const [position, d] of DEMO_DELIVERY.entries()) {
        await tx.insert(deliveryMethods).values({
          id: newId('dlv', now),
          name: d.name,
          description: d.description,
          priceMinor: d.priceMinor,
          currency: 'EUR',
          position,
        });
      }
    }
  });
}
