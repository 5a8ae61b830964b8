/**
 * A mail in the outbox. Every state and transition:
 *
 *   queued --retry--> queued   an attempt failed; the send job tries again later (attempts, last error)
 *   queued --send-->  sent     the SMTP server accepted it
 *   queued --fail-->  failed   the last attempt failed, or there is nothing left to send
 *
 * sent and failed are terminal.
 */
import { defineMachine } from '../../core/state-machine.ts';

export const MAIL_STATUSES = ['queued', 'sent', 'failed'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

export type MailEvent = 'retry' | 'send' | 'fail';

/** The outbox mail's state machine. */
export const mailMachine = defineMachine<MailStatus, MailEvent>({
  name: 'mail',
  states: MAIL_STATUSES,
  transitions: { queued: { retry: 'queued', send: 'sent', fail: 'failed' } },
});
