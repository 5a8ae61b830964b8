// Secrets the gateway generates for itself at first start and keeps in its own database.
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { settings } from './tables.ts';

/** The value of a setting, generated (and stored, first writer wins) when absent. */
export async function settingOrGenerate(
  db: Executor,
  key: string,
  generate: () => string = () => randomBytes(32).toString('base64url'),
): Promise<string> {
  await db.insert(settings).values({ key, value: generate() }).onConflictDoNothing();
  const [row] = await db.select().from(settings).where(eq(settings.key, key));
  return row!.value;
}
