// Reads of issued cards.
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { cards } from './tables.ts';

export type CardRow = typeof cards.$inferSelect;

/** The card with this number, if the bank issued it. */
export async function findCardByNumber(executor: Executor, number: string): Promise<CardRow | undefined> {
  const [card] = await executor.select().from(cards).where(eq(cards.number, number));
  return card;
}
