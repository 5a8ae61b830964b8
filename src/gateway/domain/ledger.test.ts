import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import {
  applyDelta,
  decideTransfer,
  EMPTY_BALANCES,
  transferDeltas,
  type Balances,
  type TransferContext,
} from '../../core/ledger.ts';
import { ACCOUNT_FLAGS, ACCOUNT_KINDS, accountId, parseAccountId } from './ledger.account.ts';
import { merchantBalances } from './ledger.balance.ts';
import {
  authorizationTransfers,
  captureTransfers,
  feeFor,
  NO_FEE,
  parseFeePolicy,
  refundPaidTransfers,
  refundTransfers,
  voidTransfers,
} from './ledger.payment.ts';
import type { Transfer } from './ledger.transfer.ts';

const session = { id: 'ps_1', merchantId: 'mer_a', amountMinor: 2500n, currency: 'EUR' };
const currencyOf = (id: string) => parseAccountId(id).currency;

/** Applies transfers to an in-memory ledger exactly as storage does; returns the balances by account. */
function run(transfers: readonly Transfer[], start = new Map<string, Balances>()) {
  const books = new Map(start);
  const stored = new Map<string, Transfer>();
  const resolvedBy = new Map<string, string>();
  for (const t of transfers) {
    const pending = t.pendingId ? stored.get(t.pendingId) : undefined;
    const ctx: TransferContext<Transfer> = {
      existing: stored.get(t.id),
      pending: pending ? { transfer: pending, resolvedBy: resolvedBy.get(pending.id) ?? null } : undefined,
      currencyOf,
    };
    if (!decideTransfer(t, ctx).write) continue;
    const d = transferDeltas(t, pending?.amount ?? 0n);
    for (const [id, delta] of [
      [t.debitAccountId, d.debit],
      [t.creditAccountId, d.credit],
    ] as const)
      books.set(
        id,
        applyDelta({ id, flags: ACCOUNT_FLAGS[parseAccountId(id).kind] }, books.get(id) ?? EMPTY_BALANCES, delta),
      );
    stored.set(t.id, t);
    if (t.pendingId) resolvedBy.set(t.pendingId, t.id);
  }
  return books;
}

const net = (books: Map<string, Balances>) =>
  [...books.values()].reduce(
    (s, b) => ({
      posted: s.posted + b.debitsPosted - b.creditsPosted,
      pending: s.pending + b.debitsPending - b.creditsPending,
    }),
    { posted: 0n, pending: 0n },
  );

const balanceOf = (books: Map<string, Balances>) =>
  merchantBalances([...books.entries()].map(([id, b]) => ({ ...b, ...parseAccountId(id) })))[0]!;

describe('ledger accounts', () => {
  it('an account id names its merchant, currency and kind, for every kind', () => {
    for (const kind of ACCOUNT_KINDS)
      assert.deepEqual(parseAccountId(accountId('mer_x_y', 'EUR', kind)), {
        merchantId: 'mer_x_y',
        currency: 'EUR',
        kind,
      });
    assert.throws(
      () => parseAccountId('acct_mer_EUR_savings'),
      (e) => isDomainError(e, 'ledger.invalid_transfer'),
    );
  });

  it('an account that must not go negative refuses the debit that would take it below zero', () => {
    const pending = { id: 'p', flags: ACCOUNT_FLAGS.pending };
    const funded = applyDelta(pending, EMPTY_BALANCES, { ...EMPTY_BALANCES, creditsPosted: 100n });
    assert.equal(applyDelta(pending, funded, { ...EMPTY_BALANCES, debitsPosted: 100n }).debitsPosted, 100n);
    assert.throws(
      () => applyDelta(pending, funded, { ...EMPTY_BALANCES, debitsPosted: 101n }),
      (e) => isDomainError(e, 'ledger.limit_exceeded'),
    );
    // available may go negative (a refund after a fee), as a merchant balance at an acquirer may
    const available = { id: 'a', flags: ACCOUNT_FLAGS.available };
    assert.equal(applyDelta(available, EMPTY_BALANCES, { ...EMPTY_BALANCES, debitsPosted: 5n }).debitsPosted, 5n);
  });
});

describe('ledger transfers', () => {
  const [auth] = authorizationTransfers(session);
  const ctx = (over: Partial<TransferContext<Transfer>> = {}): TransferContext<Transfer> => ({
    existing: undefined,
    currencyOf,
    ...over,
  });

  it('a repeated id with the same fields is a no-op, with other fields an error', () => {
    assert.deepEqual(decideTransfer(auth!, ctx({ existing: auth })), { write: false });
    assert.throws(
      () => decideTransfer({ ...auth!, amount: 2501n }, ctx({ existing: auth })),
      (e) => isDomainError(e, 'ledger.transfer_exists'),
    );
  });

  const refused: [string, Partial<Transfer>][] = [
    ['a zero amount', { amount: 0n }],
    ['a negative amount', { amount: -1n }],
    ['one account on both sides', { creditAccountId: auth!.debitAccountId }],
    ['another currency than its accounts', { currency: 'USD' }],
    ['a pending id on a pending transfer', { pendingId: 'x' }],
  ];
  for (const [what, change] of refused)
    it(`refuses ${what}`, () => {
      assert.throws(
        () => decideTransfer({ ...auth!, ...change }, ctx()),
        (e) => isDomainError(e, 'ledger.invalid_transfer'),
      );
    });

  it('a pending transfer resolves exactly once: a second post or a void after a post is refused', () => {
    const [, post] = captureTransfers(session, 2500n, NO_FEE);
    const [, voided] = voidTransfers(session);
    const open = { transfer: auth!, resolvedBy: null };
    assert.deepEqual(decideTransfer(post!, ctx({ pending: open })), { write: true });
    for (const t of [{ ...post!, id: 'post_again' }, voided!])
      assert.throws(
        () => decideTransfer(t, ctx({ pending: { transfer: auth!, resolvedBy: post!.id } })),
        (e) => isDomainError(e, 'ledger.pending_resolved'),
      );
  });

  it('a post may take less than reserved (the rest goes back) but never more', () => {
    const open = { transfer: auth!, resolvedBy: null };
    const [, post] = captureTransfers(session, 2000n, NO_FEE);
    assert.deepEqual(decideTransfer(post!, ctx({ pending: open })), { write: true });
    assert.throws(
      () => decideTransfer({ ...post!, amount: 2501n }, ctx({ pending: open })),
      (e) => isDomainError(e, 'ledger.invalid_transfer'),
    );
    const books = run(captureTransfers(session, 2000n, NO_FEE));
    assert.deepEqual(balanceOf(books), { currency: 'EUR', pending: 0n, available: 2000n, fees: 0n, refunded: 0n });
  });
});

describe('a payment in the books', () => {
  const fee = parseFeePolicy('25+140bps');

  it('authorisation reserves, capture posts once with one fee, refund moves money back; every step nets to zero', () => {
    let books = run(authorizationTransfers(session));
    assert.deepEqual(balanceOf(books), { currency: 'EUR', pending: 2500n, available: 0n, fees: 0n, refunded: 0n });
    books = run([...authorizationTransfers(session), ...captureTransfers(session, 2500n, fee)]);
    // 25 + 1.40 % of 2500 = 25 + 35 = 60
    assert.deepEqual(balanceOf(books), { currency: 'EUR', pending: 0n, available: 2440n, fees: 60n, refunded: 0n });
    // the capture submitted again (a retried job) changes nothing
    const again = run([
      ...authorizationTransfers(session),
      ...captureTransfers(session, 2500n, fee),
      ...captureTransfers(session, 2500n, fee),
    ]);
    assert.deepEqual(again, books);
    const refund = { id: 'ref_1', amountMinor: 1000n };
    books = run([
      ...authorizationTransfers(session),
      ...captureTransfers(session, 2500n, fee),
      ...refundTransfers(session, refund),
      ...refundPaidTransfers(session, refund),
    ]);
    assert.deepEqual(balanceOf(books), { currency: 'EUR', pending: 0n, available: 1440n, fees: 60n, refunded: 1000n });
    assert.deepEqual(net(books), { posted: 0n, pending: 0n });
  });

  it('a void (or the lapse of the acknowledgement window) releases the reservation and posts nothing', () => {
    const books = run([...authorizationTransfers(session), ...voidTransfers(session)]);
    assert.deepEqual(balanceOf(books), { currency: 'EUR', pending: 0n, available: 0n, fees: 0n, refunded: 0n });
    assert.throws(
      () =>
        run([...authorizationTransfers(session), ...voidTransfers(session), ...captureTransfers(session, 2500n, fee)]),
      (e) => isDomainError(e, 'ledger.pending_resolved'),
    );
  });

  it('the fee: fixed plus basis points rounded half up, never more than the capture', () => {
    const cases: [string, bigint, bigint][] = [
      ['0', 2500n, 0n],
      ['30', 2500n, 30n],
      ['140bps', 2500n, 35n],
      ['140bps', 2499n, 35n], // 34.986 → 35
      ['1bps', 4999n, 0n], // 0.4999 → 0
      ['1bps', 5000n, 1n], // 0.5 → 1
      ['25+140bps', 2500n, 60n],
      ['500', 100n, 100n],
    ];
    for (const [text, amount, expected] of cases) assert.equal(feeFor(amount, parseFeePolicy(text)), expected, text);
    for (const bad of ['', '-5', '1.5', '10%', '20000bps', '5+'])
      assert.throws(() => parseFeePolicy(bad), /minor units|basis points/);
  });
});
