// The shop's pure rules: invoice and order machines over every (state, event) pair, the one rule from
// invoice status to order status, checkout arithmetic, invoice reuse/void/expiry, and safe redirects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../src/core/errors.ts';
import { money } from '../src/core/money.ts';
import { canView, safeNextPath } from '../src/shop/domain/access.ts';
import { addressBucket, forwardedClient, limitKeys } from '../src/shop/domain/login-limit.ts';
import {
  chooseDelivery,
  freezeLines,
  orderTotals,
  parseQuantity,
  type CatalogProduct,
} from '../src/shop/domain/checkout.ts';
import {
  INVOICE_EVENTS,
  INVOICE_STATUSES,
  invoiceMachine,
  isValidStatus,
  type InvoiceEvent,
  type InvoiceStatus,
} from '../src/shop/domain/invoice.machine.ts';
import { invoiceTerms, isPayable, planInvoice } from '../src/shop/domain/invoice.ts';
import {
  ORDER_EVENTS,
  ORDER_STATUSES,
  orderMachine,
  type OrderEvent,
  type OrderStatus,
} from '../src/shop/domain/order.machine.ts';
import { followInvoice, orderStatusForInvoice } from '../src/shop/domain/order-status.rule.ts';

const eur = (minor: bigint) => money(minor, 'EUR');

describe('invoice machine', () => {
  const legal: Record<string, InvoiceStatus> = {
    'open/pay': 'paid',
    'open/expire': 'expired',
    'open/void': 'voided',
    'open/cancel': 'cancelled',
    'paid/refund': 'refunded',
    'paid/reverse': 'reversed',
    'paid/dispute': 'disputed',
    'disputed/win_dispute': 'paid',
    'disputed/lose_dispute': 'dispute_lost',
  };
  for (const state of INVOICE_STATUSES) {
    for (const event of INVOICE_EVENTS) {
      const key = `${state}/${event}`;
      const expected = legal[key];
      it(`${expected ? 'moves' : 'refuses'} ${state} --${event}-->${expected ? ` ${expected}` : ''}`, () => {
        const result = invoiceMachine.transition(state, event as InvoiceEvent);
        if (expected) assert.deepEqual(result.ok && result.state, expected);
        else assert.ok(!result.ok && result.error.code === 'state.illegal_transition');
      });
    }
  }
  it('treats only open invoices as valid and every status but paid and disputed as terminal', () => {
    assert.deepEqual(INVOICE_STATUSES.filter(isValidStatus), ['open']);
    assert.deepEqual(
      INVOICE_STATUSES.filter((s) => invoiceMachine.isTerminal(s)),
      ['expired', 'voided', 'cancelled', 'refunded', 'reversed', 'dispute_lost'],
    );
  });
});

describe('order machine', () => {
  const legal: Record<string, OrderStatus> = {
    'awaiting_payment/pay': 'paid',
    'awaiting_payment/cancel': 'cancelled',
    'awaiting_payment/revise': 'awaiting_payment',
    'paid/refund': 'refunded',
    'paid/reverse': 'awaiting_payment',
    'paid/dispute': 'disputed',
    'disputed/win_dispute': 'paid',
    'disputed/lose_dispute': 'dispute_lost',
  };
  for (const state of ORDER_STATUSES) {
    for (const event of ORDER_EVENTS) {
      const expected = legal[`${state}/${event}`];
      it(`${expected ? 'moves' : 'refuses'} ${state} --${event}-->${expected ? ` ${expected}` : ''}`, () => {
        const result = orderMachine.transition(state, event as OrderEvent);
        if (expected) assert.deepEqual(result.ok && result.state, expected);
        else assert.ok(!result.ok && result.error.code === 'state.illegal_transition');
      });
    }
  }
});

describe('order status follows invoice status (the one rule)', () => {
  const rule: Record<InvoiceStatus, OrderStatus> = {
    open: 'awaiting_payment',
    expired: 'awaiting_payment',
    voided: 'awaiting_payment',
    paid: 'paid',
    cancelled: 'cancelled',
    refunded: 'refunded',
    reversed: 'awaiting_payment',
    disputed: 'disputed',
    dispute_lost: 'dispute_lost',
  };
  for (const invoiceStatus of INVOICE_STATUSES) {
    it(`maps invoice ${invoiceStatus} to order ${rule[invoiceStatus]}`, () => {
      assert.equal(orderStatusForInvoice(invoiceStatus), rule[invoiceStatus]);
    });
  }
  // Every (order status, invoice status) pair: either the order follows legally, or it is refused.
  for (const current of ORDER_STATUSES) {
    for (const invoiceStatus of INVOICE_STATUSES) {
      const target = rule[invoiceStatus];
      const legal =
        target === current ||
        (current === 'awaiting_payment' && (target === 'paid' || target === 'cancelled')) ||
        (current === 'paid' && target === 'refunded') ||
        (current === 'paid' && invoiceStatus === 'reversed') ||
        (current === 'paid' && target === 'disputed') ||
        (current === 'disputed' && (target === 'paid' || target === 'dispute_lost'));
      it(`${legal ? 'lets' : 'refuses'} an order ${current} follow an invoice ${invoiceStatus}`, () => {
        if (legal)
          assert.deepEqual(followInvoice(current, invoiceStatus), { status: target, changed: target !== current });
        else
          assert.throws(
            () => followInvoice(current, invoiceStatus),
            (e) => isDomainError(e, 'state.illegal_transition'),
          );
      });
    }
  }
});

describe('checkout arithmetic', () => {
  const catalog = new Map<string, CatalogProduct>([
    ['p1', { id: 'p1', name: 'Mug', price: eur(1250n), archived: false }],
    ['p2', { id: 'p2', name: 'Poster', price: eur(999n), archived: false }],
    ['p3', { id: 'p3', name: 'Old', price: eur(100n), archived: true }],
    ['p4', { id: 'p4', name: 'Dollar thing', price: money(500n, 'USD'), archived: false }],
  ]);

  it('accepts whole quantities 1..99 as numbers or digit strings', () => {
    assert.deepEqual([1, 99, '7', ' 12 '].map(parseQuantity), [1, 99, 7, 12]);
  });
  for (const bad of [
    0,
    -1,
    100,
    1.5,
    '1.5',
    '-1',
    '0',
    '100',
    '1e2',
    '0x10',
    '',
    'abc',
    NaN,
    Infinity,
    1e21,
    '99999999999999999999',
    null,
    undefined,
    [2],
    { q: 1 },
  ]) {
    it(`refuses the quantity ${JSON.stringify(bad) ?? String(bad)}`, () => {
      assert.throws(
        () => parseQuantity(bad),
        (e) => isDomainError(e, 'cart.quantity_invalid'),
      );
    });
  }

  it('freezes lines at catalog prices and totals them with delivery in minor units', () => {
    const lines = freezeLines(
      [
        { productId: 'p1', quantity: 3 },
        { productId: 'p2', quantity: 1 },
      ],
      catalog,
    );
    assert.deepEqual(
      lines.map((l) => [l.name, l.unitPrice.minor, l.lineTotal.minor]),
      [
        ['Mug', 1250n, 3750n],
        ['Poster', 999n, 999n],
      ],
    );
    const totals = orderTotals(lines, eur(490n));
    assert.deepEqual(
      [totals.subtotal.minor, totals.delivery.minor, totals.total.minor, totals.currency],
      [4749n, 490n, 5239n, 'EUR'],
    );
  });
  it('refuses an empty cart, an archived or unknown product, and mixed currencies', () => {
    assert.throws(
      () => freezeLines([], catalog),
      (e) => isDomainError(e, 'cart.empty'),
    );
    assert.throws(
      () => freezeLines([{ productId: 'p3', quantity: 1 }], catalog),
      (e) => isDomainError(e, 'product.unavailable'),
    );
    assert.throws(
      () => freezeLines([{ productId: 'nope', quantity: 1 }], catalog),
      (e) => isDomainError(e, 'product.unavailable'),
    );
    assert.throws(
      () =>
        freezeLines(
          [
            { productId: 'p1', quantity: 1 },
            { productId: 'p4', quantity: 1 },
          ],
          catalog,
        ),
      (e) => isDomainError(e, 'money.currency_mismatch'),
    );
    const lines = freezeLines([{ productId: 'p1', quantity: 1 }], catalog);
    assert.throws(
      () => orderTotals(lines, money(100n, 'USD')),
      (e) => isDomainError(e, 'money.currency_mismatch'),
    );
  });
  it('chooses only an offered, active delivery method', () => {
    const options = [
      { id: 'd1', name: 'Standard', price: eur(490n), active: true },
      { id: 'd2', name: 'Gone', price: eur(0n), active: false },
    ];
    assert.equal(chooseDelivery('d1', options).name, 'Standard');
    for (const id of ['d2', 'dX', null, undefined]) {
      assert.throws(
        () => chooseDelivery(id, options),
        (e) => isDomainError(e, 'checkout.incomplete'),
      );
    }
  });
});

describe('invoice rules', () => {
  const now = new Date(Date.UTC(2026, 0, 1, 12));
  const later = (s: number) => new Date(now.getTime() + s * 1000);
  it('issues an invoice for the total, owned by the order owner, expiring after the TTL', () => {
    const terms = invoiceTerms({ orderId: 'ord_1', ownerId: 'usr_1', total: eur(5239n), now, ttlSeconds: 1800 });
    assert.deepEqual(
      [terms.amount.minor, terms.ownerId, terms.expiresAt.toISOString()],
      [5239n, 'usr_1', '2026-01-01T12:30:00.000Z'],
    );
    assert.ok(Object.isFrozen(terms));
  });
  it('is payable only while open and before expiry', () => {
    assert.equal(isPayable({ status: 'open', expiresAt: later(1) }, now), true);
    assert.equal(isPayable({ status: 'open', expiresAt: now }, now), false);
    for (const status of ['paid', 'expired', 'voided', 'cancelled', 'refunded'] as const) {
      assert.equal(isPayable({ status, expiresAt: later(60) }, now), false, status);
    }
  });
  it('reuses an open, unexpired invoice of the same amount', () => {
    assert.deepEqual(
      planInvoice({ id: 'inv_a', status: 'open', amount: eur(100n), expiresAt: later(60) }, eur(100n), now),
      { kind: 'reuse', invoiceId: 'inv_a' },
    );
  });
  it('voids an open invoice whose amount no longer matches the order and issues a new one', () => {
    assert.deepEqual(
      planInvoice({ id: 'inv_a', status: 'open', amount: eur(100n), expiresAt: later(60) }, eur(101n), now),
      {
        kind: 'issue',
        close: { invoiceId: 'inv_a', event: 'void' },
      },
    );
  });
  it('expires an open invoice past its time and issues a new one', () => {
    assert.deepEqual(planInvoice({ id: 'inv_a', status: 'open', amount: eur(100n), expiresAt: now }, eur(100n), now), {
      kind: 'issue',
      close: { invoiceId: 'inv_a', event: 'expire' },
    });
  });
  it('issues a fresh invoice when there is none open', () => {
    assert.deepEqual(planInvoice(undefined, eur(100n), now), { kind: 'issue' });
    assert.deepEqual(
      planInvoice({ id: 'inv_a', status: 'voided', amount: eur(100n), expiresAt: later(60) }, eur(100n), now),
      { kind: 'issue' },
    );
  });
});

describe('access and redirects', () => {
  it('lets the owner and staff see a resource, nobody else', () => {
    assert.equal(canView({ id: 'usr_a', role: 'customer' }, 'usr_a'), true);
    assert.equal(canView({ id: 'usr_s', role: 'staff' }, 'usr_a'), true);
    assert.equal(canView({ id: 'usr_b', role: 'customer' }, 'usr_a'), false);
  });
  it('returns after login only to same-origin relative paths', () => {
    for (const [next, expected] of [
      ['/orders/ord_1?tab=invoice', '/orders/ord_1?tab=invoice'],
      ['/orders#top', '/orders#top'],
      ['/a/./b/../c', '/a/c'],
      ['/%2F%2Fevil.test', '/%2F%2Fevil.test'], // an encoded slash stays an encoded slash: one path segment
      ['/caf\u00e9', '/caf%C3%A9'],
    ] as const) {
      assert.equal(safeNextPath(next), expected, next);
    }
  });
  it('sends every hostile return target home, judged after normalisation', () => {
    const hostile = [
      'https://evil.test/',
      'http://shop.invalid/x',
      '//evil.test',
      '///evil.test',
      '/\\evil.test',
      '\\\\evil',
      '\\/evil.test',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      '/javascript:alert(1)/..//evil.test',
      'data:text/html,x',
      'orders',
      '',
      undefined,
      null,
      42,
      ['/orders'],
      '/ok\nx',
      '/\t/evil.test',
      '/\r\n/evil.test',
      '/\u0000/evil.test',
      '/x\u007f',
      // Dot segments that normalise to a network path: the parser's output is "//evil.test/…".
      '/.//evil.test/phish',
      '/..//evil.test',
      '/a/..//evil.test',
      '/a/b/../..//evil.test',
      '/%2e//evil.test',
      '/%2E%2E//evil.test',
      '/.%2e//evil.test',
      '/%2e%2e/%2e//evil.test',
      '/././/evil.test',
      '/.//\\evil.test',
      '/%2e/\\evil.test',
      `/${'a'.repeat(600)}`,
    ];
    for (const bad of hostile) assert.equal(safeNextPath(bad), '/', JSON.stringify(bad));
  });
  it('never emits a path a browser would read as another host', () => {
    const pieces = ['/', '.', '..', '%2e', '%2E', '%2f', '\\', 'evil.test', '@', ':', '?', '#', '%5c', ' ', '\t'];
    // Every sequence of up to four pieces after a leading slash: 15^4 targets.
    const walk = (prefix: string, depth: number): void => {
      const out = safeNextPath(prefix);
      assert.ok(
        out.startsWith('/') && !out.startsWith('//') && !out.startsWith('/\\'),
        `${JSON.stringify(prefix)} -> ${out}`,
      );
      assert.equal(
        new URL(out, 'https://shop.example').origin,
        'https://shop.example',
        `${JSON.stringify(prefix)} -> ${out}`,
      );
      if (depth < 4) for (const p of pieces) walk(prefix + p, depth + 1);
    };
    walk('/', 0);
  });
});

describe('login limits', () => {
  it('counts an address by its IPv4 address or its IPv6 /64', () => {
    for (const [address, bucket] of [
      ['203.0.113.7', '203.0.113.7'],
      ['::ffff:203.0.113.7', '203.0.113.7'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
      ['2001:db8:1:2::ffff', '2001:db8:1:2::/64'],
      ['2001:DB8:0001:0002:aaaa::1', '2001:db8:1:2::/64'],
      ['2001:db8::1', '2001:db8:0:0::/64'],
      ['::1', '0:0:0:0::/64'],
      ['unknown', 'unknown'],
    ] as const) {
      assert.equal(addressBucket(address), bucket, address);
    }
  });
  it('keys an attempt by its account, whatever the case, and by its address', () => {
    const limits = { maxFailuresPerAccount: 5, maxFailuresPerAddress: 50, windowSeconds: 900 };
    assert.deepEqual(limitKeys(' Ada@Shop.test ', '2001:db8:1:2::9', limits), [
      { kind: 'account', key: 'account:ada@shop.test', limit: 5 },
      { kind: 'address', key: 'address:2001:db8:1:2::/64', limit: 50 },
    ]);
  });
  it('reads X-Forwarded-For only as far as our own proxies wrote it', () => {
    for (const [header, hops, expected] of [
      ['198.51.100.9', 0, undefined],
      ['6.6.6.6, 198.51.100.9', 1, '198.51.100.9'],
      ['1.1.1.1, 2.2.2.2, 198.51.100.9', 1, '198.51.100.9'],
      ['1.1.1.1, 198.51.100.9, 10.0.0.2', 2, '198.51.100.9'],
      ['198.51.100.9', 2, undefined],
      ['not-an-ip', 1, undefined],
      ['6.6.6.6,', 1, undefined],
      [undefined, 1, undefined],
    ] as const) {
      assert.equal(forwardedClient(header, hops), expected, `${header} / ${hops}`);
    }
  });
});
