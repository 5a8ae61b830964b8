// The dedupe rows of bank callbacks, by the bank's callback id.
import type { Executor } from '../../platform/db/database.ts';
import { bankCallbacks } from './tables.ts';

/** Records a callback id; false when it was already recorded (a retry of a callback that took effect). */
export async function recordBankCallback(
  tx: Executor,
  input: { callbackId: string; type: string; authorizationId: string; receivedAt: Date },
): Promise<boolean> {
  const inserted = await tx
    .insert(bankCallbacks)
    .values({
      webhookId: input.callbackId,
      type: input.type,
      authorizationId: input.authorizationId,
      receivedAt: input.receivedAt,
    })
    .onConflictDoNothing()
    .returning({ id: bankCallbacks.webhookId });
  return inserted.length > 0;
}
