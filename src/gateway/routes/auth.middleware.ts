// Bearer API keys: `Authorization: Bearer sk_test_…`, looked up by sha256.
import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Database } from '../../platform/db/database.ts';
import { authenticateApiKey } from '../storage/merchants.ts';
import type { MerchantRow } from '../storage/tables.ts';

/** Sets c.var.merchant from the Bearer key, or answers 401. */
export function apiKeyAuth(database: Database): MiddlewareHandler<{ Variables: { merchant: MerchantRow } }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (\S{10,200})$/.exec(header);
    if (!match) throw new DomainError('auth.required');
    c.set('merchant', await authenticateApiKey(database.db, match[1]!));
    await next();
  };
}
