// The shop's outgoing mail settings (SHOP_SMTP_*, SHOP_MAIL_*), parsed once at start.
import { z } from 'zod';
import { parseEnv, positiveInt } from '../../platform/config.ts';

/** Where and as whom the shop sends mail. */
export interface MailConfig {
  /** smtp://[user:pass@]host:port (STARTTLS when offered; ?requireTLS=true insists) or smtps:// (TLS from the start); none: mails wait queued. */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  /** Bound on connecting, the greeting and each SMTP reply: a hung server fails the attempt (retried later) instead of holding a worker. */
  readonly timeoutMs: number;
}

const shape = {
  SHOP_SMTP_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || /^smtps?:\/\/[^/]+/.test(v),
      'must be smtp://[user:password@]host:port or smtps://…',
    ),
  SHOP_MAIL_FROM: z.string().min(3).default('countersign shop <shop@countersign.test>'),
  SHOP_SMTP_TIMEOUT_MS: positiveInt(10_000),
};

/** Parses the mail variables; a bad one stops the start with its name. */
export function loadMailConfig(env: Record<string, string | undefined> = process.env): MailConfig {
  const raw = parseEnv('shop', shape, env);
  return Object.freeze({
    smtpUrl: raw.SHOP_SMTP_URL || undefined,
    from: raw.SHOP_MAIL_FROM,
    timeoutMs: raw.SHOP_SMTP_TIMEOUT_MS,
  });
}
