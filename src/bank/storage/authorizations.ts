// Reads of authorisations: by id, by the gateway's reference (the idempotency key of authorise), and
// locked for the rest of a command's transaction.
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { authorizations } from './tables.ts';

export type AuthorizationRow = typeof authorizations.$inferSelect;

/** Locks an authorisation row for the rest of the transaction. */
export async function lockAuthorization(tx: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await tx.select().from(authorizations).where(eq(authorizations.id, id)).for('update');
  return row;
}

/** An authorisation by id. */
export async function findAuthorization(executor: Executor, id: string): Promise<AuthorizationRow | undefined> {
  const [row] = await executor.select().from(authorizations).where(eq(authorizations.id, id));
  return row;
}

/** An authorisation by the gateway's reference. */
export async function findByGatewayRef(executor: Executor, gatewayRef: string): Promise<AuthorizationRow | undefined> {
  const [row] = await executor.select().from(authorizations).where(eq(authorizations.gatewayRef, gatewayRef));
  return row;
}
