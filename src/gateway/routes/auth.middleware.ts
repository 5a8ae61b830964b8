// Bearer API keys: `Authorization: Bearer sk_test_…`, looked up by sha256.
import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Database } from '../../platform/db/database.ts';
import { authenticateApiKey } from '../storage/merchants.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { KNOWN_KEY_OWNER } from './stripe/dialect.middleware.ts';

/** Sets c.var.merchant from the Bearer key, or answers 401. */
export function apiKeyAuth(database: Database): MiddlewareHandler<{ Variables: { merchant: MerchantRow } }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (\S{10,200})$/.exec(header);
    if (!match) throw new DomainError('auth.required');
    // Already looked up by the dialect dispatcher in front of /v1 for this very header: one query, not two.
    const known = c.get(KNOWN_KEY_OWNER as never) as { authorization?: string; merchant: MerchantRow } | undefined;
    c.set(
      'merchant',
      known?.authorization === header ? known.merchant : await authenticateApiKey(database.db, match[1]!),
    );
    await next();
  };
}
