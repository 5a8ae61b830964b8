/**
 * Crash points for the crash matrix: named places in the payment flow where a test can make
 * the process die with SIGKILL — a real crash, no `finally`, no shutdown hook, no flushed buffers.
 *
 *   COUNTERSIGN_CRASH_AT=<point>      die the first time <point> is reached
 *   COUNTERSIGN_CRASH_AT=<point>@<n>  die the n-th time it is reached (n ≥ 1)
 *
 * The variable is read once, when this module loads; unset (production), `crashPoint` is a single
 * comparison against `undefined`. Every point is listed in CRASH_POINTS so the matrix enumerates them
 * and a call with an unlisted name fails loudly (under the variable) rather than silently never firing.
 */

/** Every instrumented step, by party, with what the process has and has not done when it dies there. */
export const CRASH_POINTS = {
  // shop
  'shop.payment.before_create_session': 'Pay now: attempt row committed, gateway not yet asked for a session',
  'shop.payment.after_create_session': 'Pay now: the gateway made the session, its id not yet stored at the shop',
  'shop.webhook.before_commit': 'webhook intake: effect, dedupe row and audit written, transaction not committed',
  'shop.webhook.after_commit': 'webhook intake: committed, the 2xx (acknowledgement) not yet sent',
  'shop.webhook.after_ack': 'webhook intake: the 2xx was sent',
  'shop.reconcile.after_apply': 'reconciliation: a feed event applied, the cursor not yet saved',
  'shop.mail.after_enqueue':
    "mail outbox: the mail row and its send job written in the state change's transaction, not committed",
  'shop.mail.before_send': 'mail job claimed and rendered, the SMTP server not yet given the mail',
  'shop.mail.after_send':
    'the SMTP server accepted the mail, `sent` not yet recorded (a retry resends it, same Message-ID)',
  'shop.audit.before_seal_commit':
    'audit sealer: a batch of entries given positions and hashes, the statement that seals them not yet sent',
  'shop.rotate_secret.after_gateway':
    'secret rotation: the gateway made the new secret and answered it, the shop has not yet stored it',
  // gateway
  'gateway.bank.before_authorize': 'card submitted (session processing), the bank not yet asked',
  'gateway.bank.after_authorize': 'the bank authorised (hold placed), the decision not yet recorded',
  'gateway.authorize.before_commit': 'the authorisation, its event and delivery written, not committed',
  'gateway.authorize.after_commit': 'the authorisation committed, the payer not yet answered',
  'gateway.webhook.before_send': 'delivery job claimed, the webhook not yet sent',
  'gateway.webhook.after_send': 'the shop answered, the answer not yet recorded (nor acknowledged)',
  'gateway.webhook.before_acknowledge':
    'the answer recorded as an attempt, the acknowledgement (capture) or refusal (void) not yet',
  'gateway.capture.before_bank': 'acknowledged, the bank not yet asked to capture',
  'gateway.capture.after_bank': 'the bank captured, the capture not yet recorded',
  'gateway.void.before_bank': 'refused or unacknowledged, the bank not yet asked to release the hold',
} as const;

export type CrashPointName = keyof typeof CRASH_POINTS;

/** The party whose process a crash point kills. */
export function crashPointParty(name: CrashPointName): 'shop' | 'gateway' {
  return name.startsWith('shop.') ? 'shop' : 'gateway';
}

/** Parses `name` or `name@n`; throws on anything else so a typo in a test cannot pass as "never reached". */
export function parseCrashAt(value: string | undefined): { name: CrashPointName; nth: number } | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^([a-z_.]+)(?:@([1-9][0-9]{0,6}))?$/.exec(value);
  if (!m || !(m[1]! in CRASH_POINTS))
    throw new Error(`COUNTERSIGN_CRASH_AT: unknown crash point ${JSON.stringify(value)}`);
  return { name: m[1] as CrashPointName, nth: m[2] ? Number(m[2]) : 1 };
}

const target = parseCrashAt(process.env.COUNTERSIGN_CRASH_AT);
let reached = 0;

/** Dies with SIGKILL here when COUNTERSIGN_CRASH_AT names this point (and this is its n-th time); otherwise nothing. */
export function crashPoint(name: CrashPointName): void {
  if (target === undefined || target.name !== name) return;
  reached += 1;
  if (reached < target.nth) return;
  // Synchronous and immediate: no await, so nothing after this line runs, not even a pending write.
  process.kill(process.pid, 'SIGKILL');
}
