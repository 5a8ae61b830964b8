import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanTime, age } from '../pages/dashboard-format.ts';
import {
  accountProblems,
  addressBucket,
  loginLimitKeys,
  mayDo,
  DEFAULT_LOGIN_LIMITS,
} from './dashboard-account.rule.ts';
import { encodeCursor, parsePaymentQuery } from './payment-search.ts';

describe('dashboard accounts (pure)', () => {
  it('accepts a sign-up only with an e-mail, 12+ characters of password and a business name', () => {
    const ok = { email: ' Ann@Shop.example ', password: 'twelve chars', businessName: 'Ann' + "'s shop" };
    assert.deepEqual(accountProblems(ok), {});
    for (const [patch, field] of [
      [{ email: 'ann' }, 'email'],
      [{ email: 'ann@shop' }, 'email'],
      [{ email: 'a b@shop.example' }, 'email'],
      [{ password: 'eleven char' }, 'password'],
      [{ password: 'x'.repeat(257) }, 'password'],
      [{ businessName: ' ' }, 'business_name'],
      [{ businessName: 'a\u0000b shop' }, 'business_name'],
    ] as const)
      assert.ok(field in accountProblems({ ...ok, ...patch }), JSON.stringify(patch));
  });

  it('lets members read and re-send only; owners everything', () => {
    for (const a of ['keys', 'webhooks', 'faults', 'team'] as const) {
      assert.equal(mayDo('member', a), false, a);
      assert.equal(mayDo('owner', a), true, a);
    }
    assert.equal(mayDo('member', 'read'), true);
    assert.equal(mayDo('member', 'resend'), true);
  });

  it('counts failures per lower-cased account and per address (an IPv6 /64, a mapped IPv4)', () => {
    const [account, address] = loginLimitKeys(' Ann@Shop.example', '2001:db8:1:2:aaaa::1', DEFAULT_LOGIN_LIMITS);
    assert.equal(account.key, 'account:ann@shop.example');
    assert.equal(address.key, 'address:2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressBucket('10.1.2.3'), '10.1.2.3');
  });
});

describe('payment search (pure)', () => {
  it('reads ids of every kind as the session id, amounts as minor units, and drops junk filters', () => {
    const body = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    for (const p of ['ps', 'cs', 'pi', 'ch'])
      assert.equal(parsePaymentQuery({ q: `${p}_${body}` }).sessionId, `ps_${body}`);
    assert.equal(parsePaymentQuery({ q: '12.5' }).amountMinor, 1250n);
    assert.equal(parsePaymentQuery({ q: '12,05' }).amountMinor, 1205n);
    assert.equal(parsePaymentQuery({ q: '12' }).amountMinor, 1200n);
    assert.equal(parsePaymentQuery({ q: 'order-12' }).amountMinor, null);
    const junk = parsePaymentQuery({ status: 'paid; drop table', from: '2026-13-45', to: 'x', after: 'y' });
    assert.deepEqual([junk.status, junk.from, junk.after], [null, null, null]);
    const q = parsePaymentQuery({ status: 'captured', from: '2026-12-01', to: '2026-12-01' });
    assert.equal(q.status, 'captured');
    assert.equal(q.from?.toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(q.to?.toISOString(), '2026-12-02T00:00:00.000Z', 'the "to" day is included');
  });

  it('round-trips the keyset cursor', () => {
    const row = { createdAt: new Date('2026-12-02T05:12:00.123Z'), id: 'ps_01JAAAAAAAAAAAAAAAAAAAAAAA' };
    assert.deepEqual(parsePaymentQuery({ after: encodeCursor(row) }).after, row);
  });

  it('writes times for people', () => {
    const at = new Date('2026-12-02T05:12:09Z');
    assert.equal(humanTime(at), '2 Dec 2026, 05:12 UTC');
    assert.equal(humanTime(at, true), '2 Dec 2026, 05:12:09 UTC');
    assert.equal(age(at, new Date('2026-12-02T05:12:30Z')), 'just now');
    assert.equal(age(at, new Date('2026-12-02T05:15:09Z')), '3 min ago');
    assert.equal(age(at, new Date('2026-12-02T07:12:09Z')), '2 h ago');
    assert.equal(age(at, new Date('2026-12-05T05:12:09Z')), '3 days ago');
    assert.equal(age(new Date('2026-12-02T05:32:09Z'), at), 'in 20 min');
  });
});
