// The shop's one mapping from what a use case decided to an HTTP answer: a thrown DomainError (or
// anything else) by the error table in core/errors.ts, and a payment-news verdict by the same table —
// a refusal answers with its code's status (the gateway voids), everything else acknowledges.
import { DomainError, isErrorCode, toHttpError, type HttpError } from '../../core/errors.ts';
import { isRefusal, type ApplyOutcome } from '../commands/apply-gateway-event.ts';

/** An HTTP answer: the status and its JSON body. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: HttpError['body'] | { received: true; verdict: string };
}

const isOutcome = (x: unknown): x is ApplyOutcome =>
  typeof x === 'object' &&
  x !== null &&
  !(x instanceof Error) &&
  typeof (x as { verdict?: unknown }).verdict === 'string';

/** The answer to a verdict of the payment-news intake, or to anything a use case threw. */
export function httpAnswer(result: ApplyOutcome | unknown): HttpAnswer {
  if (!isOutcome(result)) return toHttpError(result);
  if (!isRefusal(result)) return { status: 200, body: { received: true, verdict: result.verdict } };
  const refusal = toHttpError(new DomainError(isErrorCode(result.code) ? result.code : 'conflict'));
  return {
    status: refusal.status,
    body: { error: { code: refusal.body.error.code, message: result.reason ?? refusal.body.error.message } },
  };
}
