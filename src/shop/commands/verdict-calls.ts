// With a gateway that takes the shop's verdict as a call (Stripe: capture or cancel the PaymentIntent),
// the call a verdict implies is a durable job queued in the verdict's own transaction: a crash between
// the commit and the call loses nothing, and the job's key makes each call happen once per session.
import type { Clock } from '../../platform/clock.ts';
import type { Executor } from '../../platform/db/database.ts';
import { enqueue } from '../../platform/jobs/jobs.ts';
import type { PaymentEvent } from '../domain/gateway.port.ts';
import type { ApplyOutcome } from './apply-gateway-event.ts';

/** Captures an accepted authorisation: `{ sessionId }`. */
export const CAPTURE_SESSION_TASK = 'shop.payment.capture_session';
/** Releases (cancels) a refused authorisation: `{ sessionId }`. */
export const REFUSE_SESSION_TASK = 'shop.payment.refuse_session';

/** Queues the capture of an accepted authorisation, or the release of a refused one (first verdicts only). */
export async function enqueueVerdictCall(
  tx: Executor,
  event: PaymentEvent,
  outcome: ApplyOutcome,
  clock: Clock,
): Promise<void> {
  const capture = outcome.verdict === 'accepted' && event.status === 'authorized';
  const refuse = outcome.verdict === 'refused';
  if (!capture && !refuse) return;
  await enqueue(
    tx,
    {
      task: capture ? CAPTURE_SESSION_TASK : REFUSE_SESSION_TASK,
      payload: { sessionId: event.sessionId },
      key: `${capture ? 'capture' : 'refuse'}:${event.sessionId}`,
      maxAttempts: 15,
    },
    clock,
  );
}
