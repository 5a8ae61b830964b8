// Test support for the core: the published Standard Webhooks test vector, shared by the unit tests
// of webhook-signature.ts and the verifier conformance proof (test/proof-verifier.test.ts).

/** The test vector published by Standard Webhooks (https://github.com/standard-webhooks/standard-webhooks). */
export const STANDARD_WEBHOOKS_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;
