// The processing-delay job's use case: the issuer finished "processing" a delayed card's
// authorisation and approves it. A no-op once it was decided (or voided) meanwhile.
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { lockAuthorization } from '../storage/authorizations.ts';
import { decidePending } from './decide-pending.ts';

/** Approves a delayed authorisation that is still pending. */
export async function finishProcessingDelay(tx: Executor, authorizationId: string, clock: Clock): Promise<void> {
  const authorization = await lockAuthorization(tx, authorizationId);
  if (!authorization) return;
  await decidePending(tx, authorization, { kind: 'approve' }, undefined, clock);
}
