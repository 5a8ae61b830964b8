// TLS for one party: the certificate and key it serves HTTPS with, and the CA its outbound calls trust
// besides the public roots. Read at start from files named in the environment, so that a missing,
// unreadable or mismatched file stops the start with the variable's name instead of a TLS error at the
// first request.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { ConfigError, parseEnv } from './config.ts';

/** What a party serves HTTPS with. */
export interface ServerCertificate {
  readonly cert: string;
  readonly key: string;
}

/** A party's TLS settings: serving (optional) and the extra CA its outbound calls trust (optional). */
export interface TlsSettings {
  readonly server: ServerCertificate | undefined;
  /** PEM of the CA(s) trusted in addition to the public roots (`<P>_TLS_CA_FILE`, else `COUNTERSIGN_CA_FILE`). */
  readonly ca: string | undefined;
}

/** A file variable: the file's text, or an issue naming the variable when it cannot be read or is not PEM. */
const pemFile = (label: string) =>
  z
    .string()
    .min(1)
    .transform((path, ctx) => {
      try {
        const text = readFileSync(path, 'utf8');
        if (!text.includes(`-----BEGIN ${label}`))
          ctx.addIssue({ code: 'custom', message: `${path} holds no PEM ${label}` });
        return text;
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        });
        return z.NEVER;
      }
    })
    .optional();

/** Parses `<P>_TLS_CERT_FILE`, `<P>_TLS_KEY_FILE`, `<P>_TLS_CA_FILE` and `COUNTERSIGN_CA_FILE`. */
export function parseTls(party: string, env: Record<string, string | undefined>): TlsSettings {
  const P = party.toUpperCase();
  const [certVar, keyVar, caVar] = [`${P}_TLS_CERT_FILE`, `${P}_TLS_KEY_FILE`, `${P}_TLS_CA_FILE`];
  // Both or neither: a certificate without its key (or the reverse) is a half-done setup, not plain HTTP.
  if ((env[certVar] === undefined) !== (env[keyVar] === undefined)) {
    const missing = env[certVar] === undefined ? certVar : keyVar;
    throw new ConfigError(
      `${party}: invalid configuration:\n  ${missing}: must be set together with ${missing === certVar ? keyVar : certVar} (got unset)`,
    );
  }
  const raw = parseEnv(
    party,
    {
      [certVar]: pemFile('CERTIFICATE'),
      [keyVar]: pemFile(''),
      [caVar]: pemFile('CERTIFICATE'),
      COUNTERSIGN_CA_FILE: pemFile('CERTIFICATE'),
    },
    env,
  ) as Record<string, string | undefined>;
  const cert = raw[certVar];
  const key = raw[keyVar];
  if (cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw new ConfigError(
        `${party}: invalid configuration:\n  ${certVar}, ${keyVar}: the key does not fit the certificate (${(err as Error).message})`,
      );
    }
  }
  return Object.freeze({
    server: cert !== undefined && key !== undefined ? Object.freeze({ cert, key }) : undefined,
    ca: raw[caVar] ?? raw.COUNTERSIGN_CA_FILE,
  });
}
