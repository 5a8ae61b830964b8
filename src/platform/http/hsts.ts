// Strict-Transport-Security for a party whose public URL is https: a browser that reached it once over
// https refuses plain http to it from then on, so a network attacker cannot downgrade later visits.
import type { Context, Next } from 'hono';
import { setAnswerHeader } from './answer-header.ts';

/** One year. Not includeSubDomains: a party does not know what else runs under its domain. */
export const HSTS_VALUE = 'max-age=31536000';

/**
 * Adds the header to every answer (pages, API, errors, health). Browsers ignore HSTS from IP-address
 * hosts (RFC 6797 8.1.1), so the https demo on 127.0.0.1 pins nothing on the developer's machine.
 */
export async function strictTransportSecurity(c: Context, next: Next): Promise<void> {
  await next();
  setAnswerHeader(c, 'Strict-Transport-Security', HSTS_VALUE);
}
