// The bank's configuration: parsed once at start, failing with the name of the bad variable and
// never its secret value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newWebhookSecret } from '../core/webhook-signature.ts';
import { loadBankConfig } from './main.ts';

const valid = () => ({
  BANK_GATEWAY_KEY: newWebhookSecret(),
  BANK_GATEWAY_CALLBACK_URL: 'http://127.0.0.1:3001/bank/callbacks',
  BANK_CALLBACK_SECRET: newWebhookSecret(),
});

describe('bank configuration', () => {
  it('defaults the approval timeout to 2 minutes and the processing delay to 3 seconds', () => {
    const config = loadBankConfig(valid());
    assert.equal(config.issuer.approvalTimeoutSeconds, 120);
    assert.equal(config.issuer.processingDelaySeconds, 3);
    assert.equal(config.base.port, 3002);
    assert.equal(config.seedDemo, true);
  });

  it('reads BANK_APPROVAL_TIMEOUT_SECONDS and two gateway keys during a rotation', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const config = loadBankConfig({ ...valid(), BANK_APPROVAL_TIMEOUT_SECONDS: '45', BANK_GATEWAY_KEY: `${a},${b}` });
    assert.equal(config.issuer.approvalTimeoutSeconds, 45);
    assert.deepEqual(config.gatewayKeys, [a, b]);
  });

  it('refuses to start without the gateway key, naming the variable but not echoing secrets', () => {
    const env = { ...valid(), BANK_GATEWAY_KEY: undefined, BANK_CALLBACK_SECRET: 'not-a-secret-value' };
    assert.throws(
      () => loadBankConfig(env),
      (err: Error) =>
        err.message.includes('BANK_GATEWAY_KEY') &&
        err.message.includes('BANK_CALLBACK_SECRET') &&
        !err.message.includes('not-a-secret-value'),
    );
  });

  it('refuses a timeout that is not a positive whole number of seconds', () => {
    assert.throws(
      () => loadBankConfig({ ...valid(), BANK_APPROVAL_TIMEOUT_SECONDS: '0' }),
      /BANK_APPROVAL_TIMEOUT_SECONDS/,
    );
  });
});
