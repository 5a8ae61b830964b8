/**
 * The same request, asked again, must be the same request: Stripe replays the first answer to a key
 * only for the same parameters (other parameters: 400 idempotency_error).
 *
 * So what a Checkout Session's parameters derive from the time (its expires_at, clamped into Stripe's
 * 30 min – 24 h window) is computed from the attempt's own time (its id's), not the clock of each
 * retry: a retry a second later would otherwise ask for another expiry and be refused.
 *
 * And Stripe answers 409 to a request whose Idempotency-Key is held by a request still running (the same
 * "Pay now" clicked many times at once: every click asks for the attempt's one Checkout Session with
 * the attempt id as the key). That answer is neither a failure nor the session: the first request is
 * about to give it. The SDK retries a 409 only `maxNetworkRetries` times; a burst of clicks outlasts
 * that, and a click that gave up would mark the attempt failed while its session exists. So such a
 * request is asked again, with the same key, until the first one has answered (then the replay is
 * that answer) or `budgetMs` has passed.
 */
import Stripe from 'stripe';
import { idTime } from '../../core/ids.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `request` again while Stripe answers 409 (the key is in use), for up to `budgetMs`. */
export async function whileKeyInUse<T>(request: () => Promise<T>, budgetMs = 15_000): Promise<T> {
  const until = Date.now() + budgetMs;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await request();
    } catch (err) {
      const inUse = err instanceof Stripe.errors.StripeError && err.statusCode === 409;
      if (!inUse || Date.now() + wait > until) throw err;
      await sleep(wait + Math.floor(Math.random() * wait));
    }
  }
}

/**
 * The time a request keyed by this attempt id was first made (the id the shop made itself, with its
 * own clock), or `now` for another key or a time not within the last ten minutes (no retry of the
 * same "Pay now" is that old: it is a new attempt by then).
 */
export function attemptTime(attemptId: string, now: Date): Date {
  let at: Date;
  try {
    at = idTime('att', attemptId);
  } catch {
    return now;
  }
  const age = now.getTime() - at.getTime();
  return age >= -60_000 && age <= 10 * 60_000 ? at : now;
}
