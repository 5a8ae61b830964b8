// Reads of cardholders.
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { cardholders } from './tables.ts';

/** The cardholder who logs in with this (normalised) e-mail address, if any. */
export async function findCardholderByEmail(executor: Executor, email: string) {
  const [cardholder] = await executor.select().from(cardholders).where(eq(cardholders.email, email));
  return cardholder;
}
