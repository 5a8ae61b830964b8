// The shop's outgoing mail: an outbox written in the state change's transaction (outbox.ts), a send
// job over SMTP (send.ts), what each mail says (mail-content.ts, receipt-pdf.ts), the staff view of a
// mail's progress (mail-status.tsx) and the local mail catcher `npm start` runs (catcher.ts).
export { loadMailConfig, type MailConfig } from './config.ts';
export { enqueueMail, MAIL_SEND_TASK, mailJobKey, type MailCause } from './outbox.ts';
export { mailTasks, smtpTransport, type MailTransport } from './send.ts';
export { shopMails, type MailKind } from './mail.schema.ts';
export type { MailStatus } from '../domain/mail.machine.ts';
