// Proof suite "adversarial" (issue 8, item 2), second part: another shop on the same gateway. Every
// other adversarial case simulates "another shop" with made-up ids; here merchant B is real — created
// in the gateway's database with its own API key, its own signing secret and its own webhook endpoint
// (a local receiver) — and the shop (merchant A, the demo merchant) runs beside it on the real gateway
// and the real bank over real HTTP on real PostgreSQL. B tries to reach A's sessions, deliveries,
// event feed, fault settings and dashboard, pays a session of its own that names the shop's real
// invoice, and its genuinely signed webhooks are replayed to the shop. Each case snapshots the
// databases before and after and asserts that nothing changed except what that case may leave.
// Reports as suite 'adversarial' (scripts/proof.mjs sums the reports of the suite's files).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { verifyWebhook } from '../src/core/webhook-signature.ts';
import { eventually, TEST_API_KEY, webhookReceiver } from '../src/gateway/testing.ts';
import { DEMO_MERCHANT_ID, upsertMerchant } from '../src/gateway/storage/merchants.ts';
import { events as gwEvents, webhookDeliveries } from '../src/gateway/storage/tables.ts';
import { systemClock } from '../src/platform/clock.ts';
import { rows } from '../src/platform/db/database.ts';
import { createGatewayAdapter } from '../src/shop/adapters/gateway.native.ts';
import { gatewayEvents, webhookReceipts, webhookRefusals } from '../src/shop/storage/tables.ts';
import { reconcileOnce } from '../src/shop/jobs/reconcile.ts';
import { invoices, paymentAttempts } from '../src/shop/storage/tables.ts';
import {
  closeSnapshotters,
  diffSnapshots,
  snapshotters,
  unexpectedChanges,
  type AllowedChanges,
  type Snapshot,
  type SnapshotDiff,
  type Snapshotter,
} from './support/harness/snapshot.ts';
import { proofRandom, proofSeed, proofSize, recordProof, replayHint, type ProofFailure } from './support/proof.ts';
import { startProofSystem, type ProofSystem } from './support/harness/in-process.ts';
import type { ShopClient } from './support/shop-client.ts';

const SUITE = 'adversarial';
const seed = proofSeed();
const random = proofRandom(seed);
const hint = replayHint(SUITE, seed);

/** Printable random characters from the proof's stream, so that keys, secrets and ids replay with the seed. */
const randomText = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') =>
  Array.from({ length: n }, () => alphabet[random.int(alphabet.length)]).join('');
const randomBytesOf = (n: number) => Buffer.from(Array.from({ length: n }, () => random.int(256)));

/** What an unverified delivery may leave at the shop: its place in the bounded refusal record (webhook-refusals.ts). */
const UNVERIFIED_RECORD: AllowedChanges = {
  webhook_refusals: 'any',
  webhook_refusal_samples: 'insert',
  webhook_refusal_sources: 'any',
};
type Allow = { shop?: AllowedChanges; gateway?: AllowedChanges; bank?: AllowedChanges };
/** B's refused POSTs with an Idempotency-Key: the 404 is stored under B's key, to be replayed on a retry (as Stripe does). */
const B_KEYS: Allow = { gateway: { idempotency_keys: 'insert' } };
/** What a payment of merchant B may leave at the gateway (each row is then checked to be B's). */
const B_PAYMENT: AllowedChanges = {
  payment_sessions: 'any',
  events: 'insert',
  webhook_deliveries: 'any',
  webhook_attempts: 'insert',
  realtime_messages: 'insert',
  bank_callbacks: 'insert',
  signed_requests: 'insert',
  idempotency_keys: 'insert',
  // The gateway's books: B's accounts (created at its first payment, then moved) and B's transfers.
  ledger_accounts: 'any',
  ledger_transfers: 'insert',
};
const BANK_PAYMENT: AllowedChanges = {
  authorizations: 'any',
  movements: 'insert',
  accounts: 'any',
  gateway_requests: 'insert',
  realtime_messages: 'insert',
  // The bank's books: the payer's card payment (its hold and capture), as its account and movements above.
  bank_ledger_accounts: 'any',
  bank_ledger_transfers: 'insert',
};

describe("adversarial: a second merchant on the same gateway reaches nothing of the shop's", () => {
  let sys: ProofSystem;
  let customer: ShopClient;
  let receiverB: Awaited<ReturnType<typeof webhookReceiver>>;
  const B = {
    id: `mer_${randomText(26, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}`,
    apiKey: `sk_test_B${randomText(32)}`,
    secret: `whsec_${randomBytesOf(32).toString('base64')}`,
  };
  let cases = 0;
  let wronglyAccepted = 0;
  const failures: ProofFailure[] = [];
  const bSessions = new Set<string>();
  let snaps: Record<'shop' | 'gateway' | 'bank', Snapshotter>;

  before(async () => {
    sys = await startProofSystem();
    snaps = await snapshotters(sys.databaseUrls);
    receiverB = await webhookReceiver();
    await upsertMerchant(
      sys.gatewayDb.db,
      { id: B.id, name: 'Merchant B', webhookUrl: receiverB.url, apiKey: B.apiKey, webhookSecret: B.secret },
      systemClock,
    );
    customer = await sys.login('customer');
  });
  after(async () => {
    await closeSnapshotters(snaps);
    await sys?.stop();
    await receiverB?.close();
    recordProof({
      suite: SUITE,
      size: proofSize(),
      seed,
      cases,
      wronglyAccepted,
      lost: 0,
      doubleFulfilled: 0,
      recovered: 0,
      failures,
      figures: { cases, refusedCleanly: cases - wronglyAccepted, secondMerchantCases: cases },
    });
  });

  // ---- helpers ----------------------------------------------------------------------------------
  const gatewayAs =
    (key: string) =>
    (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
      fetch(`${sys.gateway.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          authorization: `Bearer ${key}`,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
  const asB = gatewayAs(B.apiKey);
  const asA = gatewayAs(TEST_API_KEY);
  const idemKey = () => `adv-b-${randomText(16)}`;
  const shopGateway = () => createGatewayAdapter({ baseUrl: sys.gateway.url, apiKey: TEST_API_KEY });
  const reconcile = () =>
    reconcileOnce({ database: sys.shopDb, gateway: shopGateway(), clock: systemClock }, { pendingAgeSeconds: 900 });

  const invoiceRow = async (id: string) => (await sys.shopDb.db.select().from(invoices).where(eq(invoices.id, id)))[0]!;
  const attemptRow = async (sessionId: string) =>
    (await sys.shopDb.db.select().from(paymentAttempts).where(eq(paymentAttempts.gatewaySessionId, sessionId)))[0]!;
  const openInvoice = () =>
    sys.payNow(customer, [
      { productId: sys.productIds[random.int(sys.productIds.length)]!, quantity: 1 + random.int(3) },
    ]);
  const deliveriesSettled = () =>
    eventually(
      async () =>
        (await sys.gatewayDb.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending')))
          .length === 0
          ? true
          : undefined,
      15_000,
      'gateway deliveries settled',
    );
  /** An invoice of the shop paid and captured through the real gateway and bank, all deliveries done. */
  const paidInvoice = async () => {
    const p = await openInvoice();
    assert.ok((await sys.payCard(p.sessionId)).status < 300);
    await sys.settled(p.sessionId, ['captured']);
    await eventually(
      async () => ((await attemptRow(p.sessionId)).status === 'captured' ? true : undefined),
      15_000,
      'attempt captured at the shop',
    );
    await deliveriesSettled();
    return p;
  };
  /** A session of merchant B, created with B's key. */
  const createAsB = async (body: { minor: bigint; currency: string; reference: string }) => {
    const res = await asB('/v1/payment_sessions', {
      body: {
        amount: { minor: body.minor.toString(), currency: body.currency },
        merchant_reference: body.reference,
        description: 'merchant B',
        return_url: 'http://merchant-b.test/return',
      },
      headers: { 'idempotency-key': idemKey() },
    });
    assert.equal(res.status, 201, `B creates a session: ${await res.clone().text()}`);
    const s = (await res.json()) as { id: string };
    bSessions.add(s.id);
    return s.id;
  };
  const errorOf = async (res: Response) => ({
    status: res.status,
    code: ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code,
  });

  const PARTIES = ['shop', 'gateway', 'bank'] as const;
  /** Every table of the three parties' databases. */
  const snapAll = async (): Promise<Record<(typeof PARTIES)[number], Snapshot>> => {
    const [shop, gateway, bank] = await Promise.all([snaps.shop.take(), snaps.gateway.take(), snaps.bank.take()]);
    return { shop, gateway, bank };
  };

  /** Rows the diff added, changed or removed at the gateway that belong to merchant A (the shop). */
  const touchedOfA = (diff: SnapshotDiff, after: Snapshot): string[] => {
    const aDeliveries = new Set(
      [...(after.get('webhook_deliveries')?.values() ?? [])]
        .map((v) => JSON.parse(v) as { id: string; merchant_id: string })
        .filter((d) => d.merchant_id === DEMO_MERCHANT_ID)
        .map((d) => d.id),
    );
    // A ledger transfer names its merchant in its accounts' ids (acct_<merchant>_<currency>_<kind>).
    const aAccount = (id: unknown) => typeof id === 'string' && id.startsWith(`acct_${DEMO_MERCHANT_ID}_`);
    const ofA = (row: Record<string, unknown>) =>
      row.merchant_id === DEMO_MERCHANT_ID ||
      (typeof row.delivery_id === 'string' && aDeliveries.has(row.delivery_id)) ||
      aAccount(row.debit_account_id) ||
      aAccount(row.credit_account_id);
    const out: string[] = [];
    for (const [table, d] of diff) {
      if (table === 'jobs') continue;
      const rowsOfA = [...d.added, ...d.removed, ...d.changed.map((c) => c.after)].filter(ofA);
      if (rowsOfA.length)
        out.push(`${table}: ${rowsOfA.length} row(s) of merchant A ${JSON.stringify(rowsOfA.slice(0, 1))}`);
    }
    return out;
  };

  /**
   * Runs one attack between two snapshots of all three databases: `attack` performs it and checks the
   * answers; afterwards nothing may have changed except `allow`, and no row of merchant A at the
   * gateway may have moved.
   */
  async function guarded(name: string, attack: () => Promise<void>, allow: Allow = {}) {
    cases++;
    const before = await snapAll();
    const answerProblem = await attack().then(
      () => undefined,
      (err: Error) => err.message,
    );
    const after = await snapAll();
    const bad: string[] = [];
    for (const party of PARTIES) {
      const diff = diffSnapshots(before[party], after[party]);
      // The gateway's and the bank's recurring tickers write their job rows at any time (the shop runs no worker here).
      bad.push(
        ...unexpectedChanges(diff, party === 'shop' ? allow.shop : { jobs: 'any', ...allow[party] }).map(
          (x) => `${party} ${x}`,
        ),
      );
      if (party === 'gateway') bad.push(...touchedOfA(diff, after.gateway).map((x) => `gateway ${x}`));
    }
    if (bad.length > 0 || answerProblem !== undefined) {
      wronglyAccepted++;
      failures.push({ case: name, detail: [answerProblem, ...bad].filter(Boolean).join('; ').slice(0, 2000) });
    }
    assert.equal(answerProblem, undefined, `${name}: ${answerProblem} (${hint})`);
    assert.deepEqual(bad, [], `${name}: changed what it must not\n  ${bad.join('\n  ')}\n(${hint})`);
  }

  // ---- 1. B's API key on A's resources ----------------------------------------------------------
  describe("merchant B's API key on the shop's sessions", () => {
    let open: Awaited<ReturnType<typeof openInvoice>>;
    let paid: Awaited<ReturnType<typeof paidInvoice>>;
    let aDelivery: string;
    const unknownSession = `ps_${randomText(26, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}`;
    before(async () => {
      paid = await paidInvoice();
      open = await openInvoice();
      const [event] = await sys.gatewayDb.db.select().from(gwEvents).where(eq(gwEvents.sessionId, paid.sessionId));
      aDelivery = (
        await sys.gatewayDb.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event!.id))
      )[0]!.id;
    });

    /** B's answer about A's resource is the one it gets for a resource that does not exist: nothing tells them apart. */
    const sameAsUnknown = async (
      label: string,
      call: (id: string) => Promise<Response>,
      aId: string,
      unknownId: string,
    ) => {
      const theirs = await errorOf(await call(aId));
      const none = await errorOf(await call(unknownId));
      assert.deepEqual(
        theirs,
        { status: 404, code: 'not_found' },
        `${label}: B's key on A's resource answered ${JSON.stringify(theirs)}`,
      );
      assert.deepEqual(theirs, none, `${label}: A's resource answers differently from an unknown one`);
    };

    it("B cannot read the shop's open or captured session: 404 not_found, the same answer as for a session that does not exist", async () => {
      await guarded("B reads A's sessions", async () => {
        await sameAsUnknown('read open', (id) => asB(`/v1/payment_sessions/${id}`), open.sessionId, unknownSession);
        await sameAsUnknown('read captured', (id) => asB(`/v1/payment_sessions/${id}`), paid.sessionId, unknownSession);
      });
      // The same request with A's key does find it: the 404 above is about the key, not the id.
      assert.equal(
        (await asA(`/v1/payment_sessions/${open.sessionId}`)).status,
        200,
        `the shop's key finds its session (${hint})`,
      );
    });

    it("B cannot cancel the shop's open session: 404, and the session stays payable", async () => {
      await guarded(
        "B cancels A's open session",
        async () => {
          await sameAsUnknown(
            'cancel',
            (id) =>
              asB(`/v1/payment_sessions/${id}/cancel`, { method: 'POST', headers: { 'idempotency-key': idemKey() } }),
            open.sessionId,
            unknownSession,
          );
          await sameAsUnknown(
            'cancel without key',
            (id) => asB(`/v1/payment_sessions/${id}/cancel`, { method: 'POST' }),
            open.sessionId,
            unknownSession,
          );
        },
        B_KEYS,
      );
      assert.equal(
        (await sys.session(open.sessionId)).status,
        'created',
        `the shop's session is still payable (${hint})`,
      );
    });

    it("B cannot acknowledge the shop's sessions (which would make the gateway capture): 404", async () => {
      await guarded(
        "B acknowledges A's sessions",
        async () => {
          for (const s of [open.sessionId, paid.sessionId]) {
            await sameAsUnknown(
              'acknowledge',
              (id) =>
                asB(`/v1/payment_sessions/${id}/acknowledge`, {
                  method: 'POST',
                  headers: { 'idempotency-key': idemKey() },
                }),
              s,
              unknownSession,
            );
          }
        },
        B_KEYS,
      );
    });

    it("B cannot acknowledge the shop's authorised payment that awaits the shop's answer (the gateway would capture it): 404; the shop's own acknowledgement still captures it", async () => {
      const p = await openInvoice();
      // The shop's webhook of this authorisation is dropped for good, so the session waits for an acknowledgement.
      const noFaults = { reorder: 0, reorder_window_ms: 0, delay: 0, delay_ms: 0, duplicate: 0, duplicate_copies: 1 };
      const faults = (enabled: boolean) =>
        asA('/v1/admin/fault_injection', {
          method: 'PUT',
          body: {
            enabled,
            seed: `a-drop-${randomText(8)}`,
            config: {
              webhooks: { drop: 1, drop_permanently: true, ...noFaults },
              api: { fail: 0, slow: 0, slow_ms: 0 },
            },
          },
        });
      assert.equal((await faults(true)).status, 200);
      try {
        assert.ok((await sys.payCard(p.sessionId)).status < 300);
        await sys.settled(p.sessionId, ['authorized']);
        await deliveriesSettled();
      } finally {
        assert.equal((await faults(false)).status, 200);
      }
      await guarded(
        "B acknowledges A's authorised session",
        async () => {
          await sameAsUnknown(
            'acknowledge authorised',
            (id) =>
              asB(`/v1/payment_sessions/${id}/acknowledge`, {
                method: 'POST',
                headers: { 'idempotency-key': idemKey() },
              }),
            p.sessionId,
            unknownSession,
          );
        },
        B_KEYS,
      );
      const s = await sys.session(p.sessionId);
      assert.deepEqual(
        [s.status, s.acknowledgement],
        ['authorized', null],
        `the shop's payment is neither acknowledged nor captured by B (${hint})`,
      );
      // The shop's reconciliation reads the authorisation from its feed and acknowledges it itself.
      await reconcile();
      await sys.settled(p.sessionId, ['captured']);
      await eventually(
        async () => ((await attemptRow(p.sessionId)).status === 'captured' ? true : undefined),
        15_000,
        'attempt captured at the shop',
      );
      await deliveriesSettled();
    });

    it("B cannot refund the shop's captured payment, whole or in part: 404, and the bank moves no money", async () => {
      const inv = await invoiceRow(paid.invoiceId);
      await guarded(
        "B refunds A's captured session",
        async () => {
          for (const minor of [inv.amountMinor, 1n]) {
            await sameAsUnknown(
              'refund',
              (id) =>
                asB('/v1/refunds', {
                  body: {
                    session_id: id,
                    amount: { minor: minor.toString(), currency: inv.currency },
                    reason: 'B wants it',
                  },
                  headers: { 'idempotency-key': idemKey() },
                }),
              paid.sessionId,
              unknownSession,
            );
          }
        },
        B_KEYS,
      );
      assert.equal(
        (await sys.session(paid.sessionId)).status,
        'captured',
        `the shop's payment is still captured, nothing refunded (${hint})`,
      );
    });

    it("B cannot resend the shop's webhook deliveries: 404", async () => {
      await guarded(
        "B resends A's delivery",
        async () => {
          await sameAsUnknown(
            'resend',
            (id) =>
              asB(`/v1/webhook_deliveries/${id}/resend`, { method: 'POST', headers: { 'idempotency-key': idemKey() } }),
            aDelivery,
            `whd_${randomText(26, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}`,
          );
        },
        B_KEYS,
      );
    });

    it("B's event feed holds none of the shop's events, from any cursor", async () => {
      const aCursors = await rows<{ cursor: string }>(
        sys.gatewayDb.db,
        sql`select cursor::text as cursor from events where merchant_id = ${DEMO_MERCHANT_ID} order by cursor`,
      );
      assert.ok(aCursors.length >= 2, 'the shop has events at the gateway');
      await guarded('B lists events', async () => {
        for (const after of ['0', String(BigInt(aCursors[0]!.cursor) - 1n)]) {
          const res = await asB(`/v1/events?after=${after}&limit=100`);
          assert.equal(res.status, 200);
          const page = (await res.json()) as {
            data: Array<{ data: { session_id: string; merchant_reference: string } }>;
          };
          const leaked = page.data.filter((e) => !bSessions.has(e.data.session_id));
          assert.deepEqual(leaked, [], "B's feed shows only B's sessions");
        }
      });
    });

    it("B reusing the shop's Idempotency-Key gets its own new session, never the shop's stored answer", async () => {
      const attempt = await attemptRow(open.sessionId);
      const inv = await invoiceRow(open.invoiceId);
      let created = '';
      await guarded(
        "B reuses A's Idempotency-Key",
        async () => {
          const res = await asB('/v1/payment_sessions', {
            body: {
              amount: { minor: inv.amountMinor.toString(), currency: inv.currency },
              merchant_reference: `b-order-${randomText(8)}`,
            },
            headers: { 'idempotency-key': attempt.id },
          });
          assert.equal(res.status, 201, `answered ${res.status}`);
          assert.equal(res.headers.get('idempotent-replayed'), null, "not a replay of the shop's answer");
          created = ((await res.json()) as { id: string }).id;
          bSessions.add(created);
          assert.notEqual(created, open.sessionId);
        },
        {
          gateway: {
            payment_sessions: 'insert',
            idempotency_keys: 'insert',
            events: 'insert',
            realtime_messages: 'insert',
          },
        },
      );
      const [row] = await rows<{ merchant_id: string }>(
        sys.gatewayDb.db,
        sql`select merchant_id from payment_sessions where id = ${created}`,
      );
      assert.equal(row?.merchant_id, B.id, `the new session is B's (${hint})`);
    });
  });

  // ---- 2, 3, 5b. B's session naming the shop's real invoice -------------------------------------
  describe("merchant B's payment that names the shop's real open invoice", () => {
    let target: Awaited<ReturnType<typeof openInvoice>>;
    let bSession = '';
    before(async () => {
      target = await openInvoice();
      await reconcile(); // the shop's feed cursor catches up first, so the cycle below starts from now
      await deliveriesSettled();
    });

    it("B's session for the same invoice id, amount and currency, paid with an approving card, leaves the shop's invoice unpaid, even after a reconciliation cycle", async () => {
      const inv = await invoiceRow(target.invoiceId);
      await guarded(
        "B's payment names A's invoice",
        async () => {
          bSession = await createAsB({ minor: inv.amountMinor, currency: inv.currency, reference: target.invoiceId });
          assert.ok((await sys.payCard(bSession)).status < 300, "the payer pays B's session");
          await eventually(
            async () => (receiverB.eventsFor(bSession).some((e) => e.type === 'payment.captured') ? true : undefined),
            15_000,
            'B hears of the capture',
          );
          await deliveriesSettled();
          const cycle = await reconcile();
          assert.equal(cycle.read, 0, "the shop's feed holds nothing of B's payment");
          const feed = (await (await asB('/v1/events?after=0&limit=100')).json()) as {
            data: Array<{ data: { session_id: string } }>;
          };
          assert.ok(
            feed.data.some((e) => e.data.session_id === bSession),
            "B's feed holds B's payment",
          );
          assert.deepEqual(
            feed.data.filter((e) => !bSessions.has(e.data.session_id)),
            [],
            "and nothing of the shop's",
          );
        },
        { gateway: B_PAYMENT, bank: BANK_PAYMENT },
      );
      assert.equal((await invoiceRow(target.invoiceId)).status, 'open', `the shop's invoice stays open (${hint})`);
      assert.equal(
        (await attemptRow(target.sessionId)).status,
        'session_created',
        `the shop's attempt did not move (${hint})`,
      );
      const heard = await sys.shopDb.db.select().from(gatewayEvents).where(eq(gatewayEvents.sessionId, bSession));
      assert.deepEqual(heard, [], `the shop never heard of B's session (${hint})`);
      // Every delivery of B's payment went to B's endpoint, signed with B's secret only.
      const deliveries = await sys.gatewayDb.db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.merchantId, B.id));
      assert.ok(
        deliveries.length >= 2 && deliveries.every((d) => d.status === 'delivered'),
        `B's deliveries all went to B's endpoint (${hint})`,
      );
      for (const r of receiverB.received) {
        const headers = {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        };
        verifyWebhook({ headers, body: r.body, secrets: [B.secret], now: new Date() });
        assert.throws(
          () => verifyWebhook({ headers, body: r.body, secrets: [sys.webhookSecret], now: new Date() }),
          `not signed with the shop's secret (${hint})`,
        );
      }
      assert.equal(
        (await asA(`/v1/payment_sessions/${bSession}`)).status,
        404,
        `nor can the shop's key read B's session (${hint})`,
      );
    });

    it("B's genuine webhook replayed to the shop is refused as badly signed, leaving only the refusal record", async () => {
      const captured = receiverB.received.find((r) => JSON.parse(r.body.toString('utf8')).type === 'payment.captured');
      assert.ok(captured, 'B received its captured event');
      const authorized = receiverB.received.find(
        (r) => JSON.parse(r.body.toString('utf8')).type === 'payment.authorized',
      )!;
      for (const [label, r] of [
        ['authorized', authorized],
        ['captured', captured],
      ] as const) {
        await guarded(
          `B's ${label} webhook replayed to the shop`,
          async () => {
            const headers = {
              'webhook-id': String(r.headers['webhook-id']),
              'webhook-timestamp': String(r.headers['webhook-timestamp']),
              'webhook-signature': String(r.headers['webhook-signature']),
              'content-type': 'application/json',
            };
            const res = await fetch(`${sys.shop.url}/webhooks/gateway`, {
              method: 'POST',
              headers,
              body: new Uint8Array(r.body),
            });
            const e = await errorOf(res);
            assert.equal(e.status, 401, `answered ${JSON.stringify(e)}`);
            assert.match(e.code ?? '', /^webhook\./);
          },
          { shop: UNVERIFIED_RECORD },
        );
      }
      const [counted] = await sys.shopDb.db
        .select({ n: sql<number>`coalesce(sum(${webhookRefusals.count}), 0)::int` })
        .from(webhookRefusals)
        .where(eq(webhookRefusals.reason, 'webhook.signature_invalid'));
      assert.ok(Number(counted?.n) >= 2, `the refusals are counted (${hint})`);
      assert.equal((await invoiceRow(target.invoiceId)).status, 'open', `the shop's invoice stays open (${hint})`);
    });

    it("an event signed with the shop's own secret that names B's real session for the shop's invoice is refused: that session is not the one the shop's attempt made", async () => {
      const inv = await invoiceRow(target.invoiceId);
      const body = JSON.parse(authorizedOf(bSession).body.toString('utf8')) as {
        id: string;
        data: { merchant_reference: string; amount: { minor: string; currency: string } };
      };
      assert.equal(body.data.merchant_reference, target.invoiceId);
      assert.equal(body.data.amount.minor, inv.amountMinor.toString());
      for (const status of ['authorized', 'captured'] as const) {
        await guarded(
          `A-signed ${status} event with B's session for A's invoice`,
          async () => {
            const res = await sys.deliver({
              ...body,
              id: `evt_${randomText(26, '0123456789ABCDEFGHJKMNPQRSTVWXYZ')}`,
              type: `payment.${status}`,
              data: { ...body.data, status },
            });
            assert.deepEqual(await errorOf(res), { status: 409, code: 'invoice.unknown' });
          },
          { shop: { gateway_events: 'insert', webhook_receipts: 'insert' } },
        );
      }
      assert.equal((await invoiceRow(target.invoiceId)).status, 'open', `the shop's invoice stays open (${hint})`);
      const attempts = await sys.shopDb.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.invoiceId, target.invoiceId));
      assert.deepEqual(
        attempts.map((a) => a.gatewaySessionId),
        [target.sessionId],
        `B's session was not adopted as an attempt of the shop's invoice (${hint})`,
      );
    });

    it("a session of the shop's own whose id the shop never stored (crash between the gateway's answer and the commit) is still adopted and paid once", async () => {
      const p = await openInvoice();
      // What a crash right after the gateway created the session leaves: the attempt without its session id.
      await sys.shopDb.db
        .update(paymentAttempts)
        .set({ status: 'created', gatewaySessionId: null, redirectUrl: null })
        .where(eq(paymentAttempts.id, p.attemptId));
      assert.ok((await sys.payCard(p.sessionId)).status < 300);
      await sys.settled(p.sessionId, ['captured']);
      await eventually(
        async () => ((await invoiceRow(p.invoiceId)).status === 'paid' ? true : undefined),
        15_000,
        'the adopted session paid the invoice',
      );
      const attempts = await sys.shopDb.db
        .select()
        .from(paymentAttempts)
        .where(eq(paymentAttempts.invoiceId, p.invoiceId));
      assert.equal(
        attempts.filter((a) => a.gatewaySessionId === p.sessionId).length,
        1,
        `the session was adopted once (${hint})`,
      );
      await deliveriesSettled();
    });
  });
  const authorizedOf = (sessionId: string) =>
    receiverB.received.find((r) => {
      const e = JSON.parse(r.body.toString('utf8')) as { type: string; data: { session_id: string } };
      return e.type === 'payment.authorized' && e.data.session_id === sessionId;
    })!;

  // ---- 4. fault injection -----------------------------------------------------------------------
  describe("merchant B's fault injection", () => {
    const aSettings = {
      enabled: false,
      seed: `a-private-${randomText(12)}`,
      config: {
        webhooks: {
          drop: 0.5,
          drop_permanently: false,
          duplicate: 0,
          duplicate_copies: 1,
          reorder: 0,
          reorder_window_ms: 0,
          delay: 0,
          delay_ms: 0,
        },
        api: { fail: 0, slow: 0, slow_ms: 0 },
      },
    };
    const bSettings = {
      enabled: true,
      seed: `b-${randomText(12)}`,
      config: {
        webhooks: {
          drop: 1,
          drop_permanently: true,
          duplicate: 1,
          duplicate_copies: 4,
          reorder: 0,
          reorder_window_ms: 0,
          delay: 0,
          delay_ms: 0,
        },
        api: { fail: 1, slow: 0, slow_ms: 0 },
      },
    };
    before(async () => {
      // A's own settings, switched off but distinctive, so that a leak to B would show.
      assert.equal((await asA('/v1/admin/fault_injection', { method: 'PUT', body: aSettings })).status, 200);
    });
    after(async () => {
      await asB('/v1/admin/fault_injection', { method: 'PUT', body: { ...bSettings, enabled: false } });
    });

    it("B switching on drop-everything and fail-every-call changes only B's settings, and B cannot read the shop's", async () => {
      await guarded(
        'B sets fault injection',
        async () => {
          assert.equal((await asB('/v1/admin/fault_injection', { method: 'PUT', body: bSettings })).status, 200);
          const seen = (await (await asB('/v1/admin/fault_injection')).json()) as typeof bSettings;
          assert.equal(seen.seed, bSettings.seed, 'B reads its own settings');
          assert.ok(!JSON.stringify(seen).includes(aSettings.seed), "B never sees the shop's settings");
          const mine = (await (await asA('/v1/admin/fault_injection')).json()) as typeof aSettings;
          assert.deepEqual(mine, aSettings, "the shop's settings are untouched");
          // B's faults are in force for B (so the next case is not vacuous)…
          assert.deepEqual(
            await errorOf(await asB('/v1/events')),
            { status: 502, code: 'upstream.unavailable' },
            "B's own calls fail",
          );
          // …and not for A.
          assert.equal((await asA('/v1/events')).status, 200, "the shop's calls do not");
        },
        { gateway: { fault_settings: 'any' } },
      );
      const settingsRows = await rows<{ merchant_id: string; seed: string; enabled: boolean }>(
        sys.gatewayDb.db,
        sql`select merchant_id, seed, enabled from fault_settings order by merchant_id`,
      );
      assert.deepEqual(
        settingsRows.find((r) => r.merchant_id === DEMO_MERCHANT_ID),
        { merchant_id: DEMO_MERCHANT_ID, seed: aSettings.seed, enabled: false },
        `the shop's fault settings row is as the shop left it (${hint})`,
      );
    });

    it("with B's faults on, the shop's payment is delivered once, acknowledged and captured: nothing dropped or duplicated", async () => {
      cases++;
      const p = await paidInvoice();
      const attempts = await rows<{ type: string; n: number; errors: number }>(
        sys.gatewayDb.db,
        sql`select e.type, count(a.id)::int as n, count(a.error)::int as errors from events e join webhook_deliveries d on d.event_id = e.id
            left join webhook_attempts a on a.delivery_id = d.id where e.session_id = ${p.sessionId} group by e.type order by e.type`,
      );
      const ok = attempts.length >= 2 && attempts.every((a) => a.n === 1 && a.errors === 0);
      const received = await sys.shopDb.db
        .select()
        .from(webhookReceipts)
        .where(eq(webhookReceipts.sessionId, p.sessionId));
      const onceEach = received.length === attempts.length && received.every((r) => r.verdict === 'accepted');
      if (!ok || !onceEach) {
        wronglyAccepted++;
        failures.push({
          case: "B's faults reach A",
          detail: JSON.stringify({ attempts, received: received.map((r) => r.verdict) }),
        });
      }
      assert.ok(
        ok,
        `each of the shop's events was sent exactly once without an injected fault: ${JSON.stringify(attempts)} (${hint})`,
      );
      assert.ok(
        onceEach,
        `the shop received each event once: ${JSON.stringify(received.map((r) => [r.eventType, r.verdict]))} (${hint})`,
      );
      // And B's own payment under its faults is dropped: the settings do act where they belong.
      const bs = await createAsBUnderFaults();
      assert.ok((await sys.payCard(bs)).status < 300);
      await eventually(
        async () => {
          const [row] = await rows<{ error: string | null }>(
            sys.gatewayDb.db,
            sql`select a.error from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where e.session_id = ${bs} limit 1`,
          );
          return row ? row : undefined;
        },
        15_000,
        "B's first delivery attempt",
      ).then((row) =>
        assert.equal(row.error, 'fault_injected: dropped', `B's delivery was dropped by B's faults (${hint})`),
      );
      assert.equal(receiverB.eventsFor(bs).length, 0, `nothing of it reached B (${hint})`);
    });
    /** B's API calls fail under its own faults; the session is created with them briefly off. */
    const createAsBUnderFaults = async () => {
      assert.equal(
        (
          await asB('/v1/admin/fault_injection', {
            method: 'PUT',
            body: { ...bSettings, config: { ...bSettings.config, api: { fail: 0, slow: 0, slow_ms: 0 } } },
          })
        ).status,
        200,
      );
      return createAsB({ minor: 1234n, currency: 'EUR', reference: `b-order-${randomText(8)}` });
    };
  });

  // ---- 5. the dashboard -------------------------------------------------------------------------
  describe("merchant B on the gateway's dashboard", () => {
    let cookie = '';
    let paid: Awaited<ReturnType<typeof paidInvoice>>;
    let aDelivery = '';
    const page = (path: string, init: RequestInit = {}) =>
      fetch(`${sys.gateway.url}${path}`, {
        redirect: 'manual',
        ...init,
        headers: { cookie, ...(init.headers as Record<string, string>) },
      });
    const post = (path: string, form: Record<string, string>) =>
      page(path, {
        method: 'POST',
        body: new URLSearchParams(form),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    before(async () => {
      paid = await paidInvoice();
      const [event] = await sys.gatewayDb.db.select().from(gwEvents).where(eq(gwEvents.sessionId, paid.sessionId));
      aDelivery = (
        await sys.gatewayDb.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, event!.id))
      )[0]!.id;
      const res = await post('/dashboard/login', { api_key: B.apiKey });
      assert.equal(res.status, 303);
      cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    });

    it("B's dashboard lists only B's payments, and opening, resending or reading the settings of the shop's finds nothing of it", async () => {
      const aSessions = (
        await rows<{ id: string }>(
          sys.gatewayDb.db,
          sql`select id from payment_sessions where merchant_id = ${DEMO_MERCHANT_ID}`,
        )
      ).map((r) => r.id);
      const aKeyPrefix = TEST_API_KEY.slice(0, 12);
      await guarded('B on the dashboard', async () => {
        const list = await page('/dashboard');
        assert.equal(list.status, 200);
        const html = await list.text();
        assert.ok(
          [...bSessions].some((id) => html.includes(id)),
          'B sees its own payments',
        );
        const shown = aSessions.filter((id) => html.includes(id));
        assert.deepEqual(shown, [], "B sees none of the shop's payments");
        const detail = await page(`/dashboard/payments/${paid.sessionId}`);
        assert.equal(detail.status, 404, `A's payment page answered ${detail.status}`);
        assert.ok(!(await detail.text()).includes(paid.invoiceId));
        const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
        assert.ok(csrf);
        const resend = await post(`/dashboard/deliveries/${aDelivery}/resend`, { csrf, back: paid.sessionId });
        assert.equal(resend.status, 404, `resend of A's delivery answered ${resend.status}`);
        const settingsHtml = await (await page('/dashboard/settings')).text();
        assert.ok(
          !settingsHtml.includes(aKeyPrefix) && !settingsHtml.includes(sys.webhookSecret.slice(0, 10)),
          "B's settings show nothing of the shop's key or secret",
        );
      });
    });
  });

  // Last, because B's refused deliveries stay pending (retried) until the system stops.
  describe("merchant B with its webhook endpoint set to the shop's intake", () => {
    it("the gateway's own deliveries of B's payment for the shop's invoice reach the shop signed with B's secret and are refused: the invoice stays open, the payment is not captured", async () => {
      const target = await openInvoice();
      const inv = await invoiceRow(target.invoiceId);
      await upsertMerchant(
        sys.gatewayDb.db,
        {
          id: B.id,
          name: 'Merchant B',
          webhookUrl: `${sys.shop.url}/webhooks/gateway`,
          apiKey: B.apiKey,
          webhookSecret: B.secret,
        },
        systemClock,
      );
      let bSession = '';
      await guarded(
        "B's webhooks sent to the shop by the gateway",
        async () => {
          bSession = await createAsB({ minor: inv.amountMinor, currency: inv.currency, reference: target.invoiceId });
          assert.ok((await sys.payCard(bSession)).status < 300, "the payer pays B's session");
          const first = await eventually(
            async () => {
              const [row] = await rows<{ status_code: number | null }>(
                sys.gatewayDb.db,
                sql`select a.status_code from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join events e on e.id = d.event_id where e.session_id = ${bSession} and e.type = 'payment.authorized' limit 1`,
              );
              return row;
            },
            15_000,
            "the gateway's first delivery of B's authorisation",
          );
          assert.equal(first.status_code, 401, 'the shop refused it as badly signed');
        },
        { shop: UNVERIFIED_RECORD, gateway: B_PAYMENT, bank: BANK_PAYMENT },
      );
      assert.equal((await invoiceRow(target.invoiceId)).status, 'open', `the shop's invoice stays open (${hint})`);
      const [session] = await rows<{ status: string }>(
        sys.gatewayDb.db,
        sql`select status from payment_sessions where id = ${bSession}`,
      );
      assert.equal(session?.status, 'authorized', `B's payment is not captured on the shop's refusal (${hint})`);
    });
  });

  describe('the report', () => {
    it('every second-merchant attack was refused and left the databases as expected', () => {
      assert.ok(cases >= 17, `only ${cases} of the 17 cases ran (${hint})`);
      assert.equal(wronglyAccepted, 0, `${wronglyAccepted} wrongly accepted: ${JSON.stringify(failures)} (${hint})`);
    });
  });
});
