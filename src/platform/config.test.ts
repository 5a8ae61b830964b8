import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError, parseEnv, port } from './config.ts';
import { parseServiceBase } from './service.ts';

describe('configuration', () => {
  it('parses the environment into a frozen, typed object with defaults', () => {
    const cfg = parseEnv('shop', { SHOP_PORT: port(3000), NAME: z.string().default('x') }, { SHOP_PORT: '4000' });
    assert.deepEqual(cfg, { SHOP_PORT: 4000, NAME: 'x' });
    assert.ok(Object.isFrozen(cfg));
  });

  it('refuses to start with a message that names the bad variable and its value', () => {
    assert.throws(
      () => parseEnv('shop', { SHOP_PORT: port(3000) }, { SHOP_PORT: 'eighty' }),
      (err: unknown) => err instanceof ConfigError && /SHOP_PORT/.test(err.message) && /"eighty"/.test(err.message),
    );
  });

  it('names a missing required variable', () => {
    assert.throws(
      () => parseEnv('gateway', { GATEWAY_BANK_KEY: z.string().min(1) }, {}),
      (err: unknown) => err instanceof ConfigError && /GATEWAY_BANK_KEY/.test(err.message) && /unset/.test(err.message),
    );
  });

  it('never echoes the value of a secret variable in the error', () => {
    const secret = 'sk_live_do_not_print_me';
    assert.throws(
      () =>
        parseEnv('shop', { SHOP_GATEWAY_API_KEY: z.string().startsWith('sk_test_') }, { SHOP_GATEWAY_API_KEY: secret }),
      (err: unknown) =>
        err instanceof ConfigError && /SHOP_GATEWAY_API_KEY/.test(err.message) && !err.message.includes(secret),
    );
  });

  it('gives each party its own port, data directory and database URL', () => {
    const base = parseServiceBase('bank', 3002, { DATA_DIR: '/tmp/x', BANK_PORT: '4002' });
    assert.equal(base.port, 4002);
    assert.equal(base.dataDir, '/tmp/x/bank');
    assert.equal(base.databaseUrl, undefined);
    assert.equal(base.publicUrl, 'http://127.0.0.1:4002');
    assert.throws(() => parseServiceBase('bank', 3002, { BANK_DATABASE_URL: 'mysql://nope' }), /BANK_DATABASE_URL/);
    assert.throws(() => parseServiceBase('bank', 3002, { BANK_PORT: '70000' }), /BANK_PORT/);
  });
});
