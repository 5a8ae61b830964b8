// The one writer of authorizations.status. Every command that changes an authorisation's state
// locks its row first (lockAuthorization), then moves it here: the machine decides the next state
// (an illegal event throws `state.illegal_transition` before anything is written), and the UPDATE
// is guarded by the state read under the lock. Inserts of new authorisations are authorize.ts's.
import { and, eq, type WithSubquery } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/database.ts';
import {
  authorizationMachine,
  type AuthorizationEvent,
  type AuthorizationStatus,
} from '../domain/authorization.machine.ts';
import type { AuthorizationRow } from '../storage/authorizations.ts';
import { authorizations } from '../storage/tables.ts';

type AuthorizationFields = Omit<PgUpdateSetSource<typeof authorizations>, 'id' | 'status'>;

/**
 * Applies `event` to an authorisation the caller locked, with the fields that change with it; `along`:
 * data-modifying CTEs of the move's own statement (the capture's account move), which land with it.
 */
export async function moveAuthorization(
  tx: Executor,
  locked: AuthorizationRow,
  event: AuthorizationEvent,
  fields: AuthorizationFields,
  along: readonly WithSubquery[] = [],
): Promise<AuthorizationRow> {
  const next = authorizationMachine.apply(locked.status as AuthorizationStatus, event);
  const [updated] = await (along.length ? tx.with(...along) : tx)
    .update(authorizations)
    .set({ ...fields, status: next.state })
    .where(and(eq(authorizations.id, locked.id), eq(authorizations.status, locked.status)))
    .returning();
  // The row is locked by the caller's transaction: nobody can have moved it meanwhile.
  if (!updated) throw new Error(`authorization ${locked.id} was not in state ${locked.status} under its lock`);
  return updated;
}
