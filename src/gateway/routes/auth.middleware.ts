// Bearer API keys: `Authorization: Bearer sk_test_…`, looked up by sha256.
import type { MiddlewareHandler } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Database } from '../../platform/db/database.ts';
import { findApiKeyOwner } from '../storage/merchants.ts';
import type { MerchantRow } from '../storage/tables.ts';
import { KNOWN_KEY_OWNER, type KnownKeyOwner } from './stripe/dialect.middleware.ts';

/** Sets c.var.merchant (and c.var.faultsOn, its fault switch) from the Bearer key, or answers 401. */
export function apiKeyAuth(
  database: Database,
): MiddlewareHandler<{ Variables: { merchant: MerchantRow; faultsOn: boolean } }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer (\S{10,200})$/.exec(header);
    if (!match) throw new DomainError('auth.required');
    // Already looked up by the dialect dispatcher in front of /v1 for this very header: one query, not two.
    const known = c.get(KNOWN_KEY_OWNER as never) as KnownKeyOwner | undefined;
    const owner = known?.authorization === header ? known : await findApiKeyOwner(database.db, match[1]!);
    if (!owner) throw new DomainError('auth.invalid_credentials');
    c.set('merchant', owner.merchant);
    c.set('faultsOn', owner.faultsOn);
    await next();
  };
}
