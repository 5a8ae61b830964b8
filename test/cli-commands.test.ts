// `countersign trigger`, `events list|show|resend` and `audit verify`, run as the real command line
// against a system started by `countersign start`: what they print, and exit codes that tell a
// problem (1) from a usage error (2), a service down or no database (3), a refused key (4) and an
// unknown id (5).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { countersign } from './support/cli.ts';
import { launchSystem, type LaunchedSystem } from './support/harness/processes.ts';
import { freePort } from './support/harness/wiring.ts';

describe('countersign commands against a running system', () => {
  let system: LaunchedSystem;
  let env: Record<string, string>;
  const run = (...args: string[]) => countersign(args, env);

  before(async () => {
    system = await launchSystem({ LOG_LEVEL: 'warn' });
    env = {
      DATA_DIR: system.dataDir,
      COUNTERSIGN_GATEWAY_URL: system.urls.gateway,
      COUNTERSIGN_SHOP_URL: system.urls.shop,
      COUNTERSIGN_BANK_URL: system.urls.bank,
    };
  });
  after(() => system?.stop());

  it('documents every subcommand and the exit codes in --help; an unknown command is a usage error (2)', async () => {
    const help = await run('--help');
    assert.equal(help.code, 0);
    for (const c of ['start', 'trigger', 'events', 'audit']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    assert.match(help.stdout, /Exit codes:[\s\S]*5 {2}no such id/);
    const sub = await run('events', 'show', '--help');
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /Usage: countersign events show \[options\] <id>[\s\S]*Exit codes:/);
    const bogus = await run('bogus');
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown command 'bogus'/);
    const scenario = await run('trigger', 'payment.bogus');
    assert.equal(scenario.code, 2);
    assert.match(scenario.stderr, /unknown scenario payment\.bogus; one of: payment\.captured/);
  });

  it('trigger payment.captured pays an order of the shop through the gateway and the bank, and prints its events', async () => {
    const r = await run('trigger', 'payment.captured', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      via: string;
      session_id: string;
      status: string;
      events: { type: string }[];
    };
    assert.equal(out.ok, true);
    assert.equal(out.via, 'shop');
    assert.equal(out.status, 'captured');
    assert.deepEqual(
      out.events.map((e) => e.type),
      ['payment.authorized', 'payment.captured'],
    );
    const session = await fetch(`${system.urls.gateway}/v1/payment_sessions/${out.session_id}`, {
      headers: { authorization: `Bearer ${system.demoMerchantApiKey()}` },
    });
    assert.equal(((await session.json()) as { status: string }).status, 'captured', 'the gateway agrees');
  });

  it('trigger payment.voided: the shop refuses a payment it does not know, the gateway voids it', async () => {
    const r = await run('trigger', 'payment.voided');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^session {2}ps_\S+ {2}voided \(invoice\.unknown\)$/m);
    assert.match(r.stdout, /payment\.authorized[\s\S]*payment\.voided/);
  });

  it('trigger payment.insufficient_funds and refund.partial end in their states', async () => {
    const declined = await run('trigger', 'payment.insufficient_funds');
    assert.equal(declined.code, 0, declined.stderr);
    assert.match(declined.stdout, /declined \(insufficient_funds\)/);
    const refund = await run('trigger', 'refund.partial');
    assert.equal(refund.code, 0, refund.stderr);
    assert.match(refund.stdout, /partially_refunded[\s\S]*^refund {3}ref_/m);
  });

  it('trigger payment.declined, the three approval outcomes and refund.full each end in their state, with their events', async () => {
    type Out = {
      ok: boolean;
      session_id: string;
      status: string;
      decline_reason: string | null;
      refund_id: string | null;
      events: { type: string }[];
    };
    const expected: Record<string, { status: string; decline?: string; last: string; refund?: boolean }> = {
      'payment.declined': { status: 'declined', last: 'payment.declined' },
      'payment.approval_approved': { status: 'captured', last: 'payment.captured' },
      'payment.approval_declined': { status: 'declined', decline: 'approval_declined', last: 'payment.declined' },
      'payment.approval_timed_out': { status: 'declined', decline: 'approval_expired', last: 'payment.declined' },
      'refund.full': { status: 'refunded', last: 'payment.refunded', refund: true },
    };
    for (const [name, want] of Object.entries(expected)) {
      const r = await run('trigger', name, '--json');
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const out = JSON.parse(r.stdout) as Out;
      assert.equal(out.ok, true, name);
      assert.equal(out.status, want.status, name);
      if (want.decline) assert.equal(out.decline_reason, want.decline, name);
      assert.equal(Boolean(out.refund_id), Boolean(want.refund), `${name}: refund id`);
      const types = out.events.map((e) => e.type);
      assert.ok(types.includes(want.last), `${name}: ${types.join(', ')}`);
      if (name.startsWith('payment.approval_'))
        assert.ok(types.includes('payment.requires_approval'), `${name}: the bank asked the cardholder`);
      const session = await fetch(`${system.urls.gateway}/v1/payment_sessions/${out.session_id}`, {
        headers: { authorization: `Bearer ${system.demoMerchantApiKey()}` },
      });
      assert.equal(((await session.json()) as { status: string }).status, want.status, `${name}: the gateway agrees`);
    }
  });

  it('events list, show and resend: the log, an event with its delivery attempts, a re-send', async () => {
    const list = await run('events', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const { data } = JSON.parse(list.stdout) as { data: { id: string; type: string }[] };
    const authorized = data.find((e) => e.type === 'payment.authorized');
    assert.ok(authorized, 'the triggered payments are in the log');
    const human = await run('events', 'list', '--type', 'payment.voided');
    assert.match(human.stdout, /payment\.voided/);
    assert.doesNotMatch(human.stdout, /payment\.captured/);

    const show = await run('events', 'show', authorized.id);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^delivery whd_\S+: delivered, 1 attempt\(s\)$/m);
    assert.match(show.stdout, new RegExp(`#1 \\S+ {2}(200|409) {2}\\d+ ms {2}${system.urls.shop}/webhooks/gateway`));

    const resend = await run('events', 'resend', authorized.id, '--json');
    assert.equal(resend.code, 0, resend.stderr);
    assert.match((JSON.parse(resend.stdout) as { delivery_id: string }).delivery_id, /^whd_/);
  });

  it('an unknown id exits 5, a refused key 4, a gateway that does not answer 3', async () => {
    const unknown = await run('events', 'show', 'evt_01JZZZZZZZZZZZZZZZZZZZZZZZ');
    assert.equal(unknown.code, 5);
    assert.match(unknown.stderr, /no such event evt_01JZ/);
    const resendUnknown = await run('events', 'resend', 'whd_nope', '--json');
    assert.equal(resendUnknown.code, 5);
    assert.equal((JSON.parse(resendUnknown.stdout) as { error: { exit_code: number } }).error.exit_code, 5);
    const refused = await run('events', 'list', '--api-key', 'sk_test_notakeyofthisgateway000');
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /refused the API key/);
    assert.doesNotMatch(refused.stderr, /sk_test_notakey/, 'the key is not echoed');
    const down = await run('events', 'list', '--gateway-url', `http://127.0.0.1:${await freePort()}`);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ .*is it running\?/);
  });

  it('audit verify refuses with a clear error and exit 3 when there is no database to verify', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cs-cli-empty-'));
    try {
      const r = await countersign(['audit', 'verify', '--data-dir', empty]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, /no shop database at .*cs-cli-empty-.*nothing was created/);
      assert.doesNotMatch(r.stdout, /OK/);
      const json = await countersign(['audit', 'verify', '--json', '--data-dir', empty]);
      assert.equal(json.code, 3);
      assert.equal((JSON.parse(json.stdout) as { verdict: string }).verdict, 'not_verified');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
