import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newWebhookSecret } from '../../core/webhook-signature.ts';
import { ConfigError } from '../../platform/config.ts';
import { loadGatewayConfig } from '../main.ts';
import { webhookAddressAllowed, webhookUrlProblem, type WebhookNetworks } from './webhook-url.rule.ts';

describe('where a merchant webhook may go', () => {
  const cases: Array<[url: string, allowHttp: boolean, accepted: boolean]> = [
    ['https://shop.example.com/webhooks/gateway', false, true],
    ['https://127.0.0.1:3000/webhooks/gateway', false, true],
    ['http://127.0.0.1:3000/webhooks/gateway', false, true],
    ['http://127.8.9.10/hook', false, true],
    ['http://localhost:3000/hook', false, true],
    ['http://shop.localhost/hook', false, true],
    ['http://[::1]:3000/hook', false, true],
    ['http://shop.example.com/webhooks/gateway', false, false],
    ['http://10.0.0.5/hook', false, false],
    ['http://localhost.example.com/hook', false, false],
    ['http://127.0.0.1.nip.io/hook', false, false],
    ['http://shop.example.com/webhooks/gateway', true, true],
    ['ftp://shop.example.com/hook', true, false],
    ['not a url', true, false],
  ];
  for (const [url, allowHttp, accepted] of cases) {
    it(`${accepted ? 'accepts' : 'refuses'} ${url}${allowHttp ? ' (http allowed)' : ''}`, () => {
      assert.equal(webhookUrlProblem(url, allowHttp) === undefined, accepted);
    });
  }

  // A URL a merchant registers must not lead into the gateway's own network (SSRF).
  const merchantCases: Array<[url: string, networks: WebhookNetworks, accepted: boolean]> = [
    ['https://shop.example.com/hook', 'public', true],
    ['https://93.184.215.14/hook', 'public', true],
    ['https://[2606:4700::1111]/hook', 'public', true],
    ['https://169.254.169.254/latest/meta-data', 'loopback', false],
    ['https://10.0.0.5/admin', 'loopback', false],
    ['https://172.20.1.1/hook', 'loopback', false],
    ['https://192.168.1.1/hook', 'loopback', false],
    ['https://100.64.0.1/hook', 'loopback', false],
    ['https://0.0.0.0:3001/hook', 'loopback', false],
    ['https://[fd00::1]/hook', 'loopback', false],
    ['https://[fe80::1]/hook', 'loopback', false],
    ['https://[::ffff:10.0.0.5]/hook', 'loopback', false],
    ['https://[::ffff:169.254.169.254]/hook', 'loopback', false],
    ['http://127.0.0.1:3000/hook', 'loopback', true],
    ['http://[::1]:3000/hook', 'loopback', true],
    ['http://127.0.0.1:3000/hook', 'public', false],
    ['https://localhost/hook', 'public', false],
    ['https://[::ffff:127.0.0.1]/hook', 'public', false],
    ['https://10.0.0.5/admin', 'any', true],
  ];
  for (const [url, networks, accepted] of merchantCases) {
    it(`${accepted ? 'accepts' : 'refuses'} ${url} from a merchant (GATEWAY_WEBHOOK_NETWORKS=${networks})`, () => {
      assert.equal(webhookUrlProblem(url, false, networks) === undefined, accepted);
    });
  }

  it("the operator's own URLs may be internal: a shop on a private network is a normal deployment", () => {
    assert.equal(webhookUrlProblem('https://10.0.0.5/webhooks/gateway', false), undefined);
    assert.equal(webhookAddressAllowed('10.0.0.5', 'any'), true);
    assert.equal(webhookAddressAllowed('8.8.8.8', 'public'), true);
    assert.equal(webhookAddressAllowed('127.0.0.1', 'public'), false);
  });

  const env = (url: string, extra: Record<string, string> = {}) => ({
    GATEWAY_BANK_KEY: newWebhookSecret(),
    GATEWAY_BANK_CALLBACK_SECRET: newWebhookSecret(),
    GATEWAY_DEMO_MERCHANT_API_KEY: 'sk_test_0123456789abcdefghij',
    GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: newWebhookSecret(),
    GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: url,
    ...extra,
  });

  it('the gateway refuses to start with an http webhook endpoint on another host, naming the variable', () => {
    assert.throws(
      () => loadGatewayConfig(env('http://shop.example.com/webhooks/gateway')),
      (err: unknown) =>
        err instanceof ConfigError && /GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: must be https:\/\//.test(err.message),
    );
    assert.equal(
      loadGatewayConfig(env('https://shop.example.com/webhooks/gateway')).demoMerchant?.webhookUrl,
      'https://shop.example.com/webhooks/gateway',
    );
    assert.equal(
      loadGatewayConfig(env('http://127.0.0.1:3000/webhooks/gateway')).demoMerchant?.webhookUrl,
      'http://127.0.0.1:3000/webhooks/gateway',
    );
    assert.equal(
      loadGatewayConfig(env('http://shop.test/hook', { GATEWAY_ALLOW_HTTP_WEBHOOKS: 'true' })).demoMerchant?.webhookUrl,
      'http://shop.test/hook',
    );
  });
});
