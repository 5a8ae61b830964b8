// Reading payment attempts for pages (the invoice page, the staff console).
import { desc, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { paymentAttempts } from '../storage/tables.ts';

export type AttemptRow = typeof paymentAttempts.$inferSelect;

/** An invoice's attempts, newest first. */
export async function attemptsOf(db: Executor, invoiceId: string): Promise<AttemptRow[]> {
  return db.select().from(paymentAttempts).where(eq(paymentAttempts.invoiceId, invoiceId)).orderBy(desc(paymentAttempts.createdAt), desc(paymentAttempts.id));
}
