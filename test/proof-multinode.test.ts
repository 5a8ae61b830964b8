// Proof suite "multinode": three shop processes (the compiled `src/shop/main.ts`, as npm start runs it)
// on ONE PostgreSQL database, same secrets, distinct ports, behind a round-robin proxy; the real
// gateway (its webhook URL is the proxy) and the real bank in process over real HTTP.
//   (a) webhooks land on every node (the proxy records who served each delivery);
//   (b) a watcher on each node — and one through the proxy — sees a payment committed by whichever
//       node served its webhook (LISTEN/NOTIFY carries it across);
//   (c) customers check out and pay through the proxy while one node is killed with SIGKILL: every
//       authorisation ends captured and paid once, the dead node's jobs are taken over when their
//       lease expires, and the customers' sessions keep working on the other nodes.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestBank, type TestBank } from '../src/bank/testing.ts';
import { newWebhookSecret } from '../src/core/webhook-signature.ts';
import { gatewayDatabaseSpec, loadGatewayConfig, startGateway } from '../src/gateway/main.ts';
import { TEST_API_KEY } from '../src/gateway/testing.ts';
import { createLogger } from '../src/platform/log.ts';
import type { ServiceHandle } from '../src/platform/service.ts';
import { openDatabase, rows, type Database } from '../src/platform/db/database.ts';
import { databaseUrl, freshDatabase, freshPostgresDatabaseName } from '../src/platform/db/testing.ts';
import { connectTestSocket, type TestSocket } from '../src/platform/realtime/testing.ts';
import { shopDatabaseSpec } from '../src/shop/main.ts';
import { SESSION_COOKIE } from '../src/shop/routes/session.ts';
import { createUser } from '../src/shop/storage/accounts.ts';
import {
  proofRandom,
  proofSeed,
  proofSize,
  recordProof,
  replayHint,
  sized,
  type ProofFailure,
} from './support/proof.ts';
import { startRoundRobinProxy } from './support/round-robin-proxy.ts';
import { ShopClient } from './support/shop-client.ts';
import { forkParty } from './support/harness/processes.ts';
import { freePort } from './support/harness/wiring.ts';
import { APPROVED_CARD, DEMO, cardDetails } from './support/factories.ts';
import { settledBooks } from './support/books.ts';
import { waitFor } from './support/proof-crash-approval.ts';

const SUITE = 'multinode';
const NODES = 3;
const LEASE_SECONDS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A text[] parameter (drizzle would spread a bare array into a list). */
const textArray = (values: readonly string[]) => sql`${sql.param(values)}::text[]`;

interface Node {
  readonly index: number;
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: string[];
  dead: boolean;
}

describe('proof: three shop nodes on one database behind a round-robin proxy', () => {
  const seed = proofSeed();
  const random = proofRandom(seed);
  const hint = replayHint(SUITE, seed);
  let bank: TestBank;
  let gw: ServiceHandle;
  let proxy: Awaited<ReturnType<typeof startRoundRobinProxy>>;
  let shopDb: Database;
  const nodes: Node[] = [];
  const failures: ProofFailure[] = [];
  const figures: Record<string, number | string> = {};
  let report: { cases: number; lost: number; doubleFulfilled: number; recovered: number } | undefined;
  let retriedRequests = 0;

  before(async () => {
    const proxyPort = await freePort();
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const webhookSecret = newWebhookSecret();
    const url = databaseUrl(await freshPostgresDatabaseName(shopDatabaseSpec));
    shopDb = await openDatabase(shopDatabaseSpec, { engine: 'postgres', url, poolSize: 4 });
    const ports: number[] = [];
    for (let i = 0; i < NODES; i++) ports.push(await freePort());
    const env = {
      ...process.env,
      SHOP_HOST: '127.0.0.1',
      SHOP_PUBLIC_URL: `http://127.0.0.1:${proxyPort}`,
      SHOP_DATABASE_URL: url,
      SHOP_SESSION_SECRET: `multinode-${seed}`.padEnd(40, 'x'),
      SHOP_GATEWAY_URL: gatewayUrl,
      SHOP_GATEWAY_API_KEY: TEST_API_KEY,
      SHOP_GATEWAY_WEBHOOK_SECRETS: webhookSecret,
      SHOP_JOB_POLL_MS: '100',
      SHOP_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      SHOP_RECONCILE_EVERY_SECONDS: '2',
      SHOP_RECONCILE_PENDING_AGE_SECONDS: '10',
      SHOP_EXPIRY_EVERY_SECONDS: '5',
      LOG_LEVEL: 'warn',
    };
    // Meanwhile, in this process: the bank, then the gateway on the port the nodes were given (a node's
    // jobs that reach for it before it listens fail and are retried, as after any gateway outage).
    const bankAndGateway = (async () => {
      bank = await startTestBank('postgres');
      const config = loadGatewayConfig({
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_BANK_URL: bank.url,
        GATEWAY_BANK_KEY: bank.gatewayKey,
        GATEWAY_BANK_CALLBACK_SECRET: bank.callbacks.secret,
        GATEWAY_DEMO_MERCHANT_API_KEY: TEST_API_KEY,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: webhookSecret,
        GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${proxyPort}/webhooks/gateway`,
        GATEWAY_WEBHOOK_TIMEOUT_MS: '10000',
        GATEWAY_JOB_POLL_MS: '100',
        LOG_LEVEL: 'silent',
      });
      gw = await startGateway(config, {
        database: await freshDatabase(gatewayDatabaseSpec, 'postgres'),
        log: createLogger('gateway', 'silent'),
      });
    })();
    // All three at once: they migrate one at a time under the advisory lock and seed the demo data once.
    const readiness: Promise<void>[] = [];
    for (const [index, port] of ports.entries()) {
      const output: string[] = [];
      const { child, ready } = await forkParty('shop', { ...env, SHOP_PORT: String(port) }, output);
      const node: Node = { index, port, child, output, dead: false };
      child.on('exit', () => (node.dead = true));
      nodes.push(node);
      readiness.push(ready.catch((err: Error) => Promise.reject(new Error(`shop node ${index}: ${err.message}`))));
    }
    await Promise.all([bankAndGateway, ...readiness]);
    proxy = await startRoundRobinProxy(
      ports.map((p) => `http://127.0.0.1:${p}`),
      proxyPort,
    );
  });

  after(async () => {
    if (report)
      recordProof({ suite: SUITE, size: proofSize(), seed, wronglyAccepted: 0, failures, figures, ...report });
    await proxy?.close();
    await Promise.all(
      nodes.map(async (n) => {
        if (n.dead) return;
        const exited = new Promise<void>((r) => n.child.once('exit', () => r()));
        n.child.kill('SIGTERM');
        const timer = setTimeout(() => n.child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await shopDb?.close();
    await gw?.stop();
    await bank?.close();
  });

  /** A customer's browser talking to the shop through the proxy; a 502 (a node died under the request) is clicked again. */
  function customer(): ShopClient {
    return new ShopClient({
      request: async (path, init) => {
        for (let tries = 0; ; tries++) {
          const res = await fetch(`${proxy.url}${path}`, { ...init, redirect: 'manual' });
          if (res.status !== 502 || tries >= 10) return res;
          retriedRequests++;
          await res.text();
          await sleep(250);
        }
      },
    });
  }

  /** Checkout through the proxy up to the gateway's hosted page: returns the session and the invoice. */
  async function checkout(
    client: ShopClient,
    productId: string,
    deliveryId: string,
  ): Promise<{ sessionId: string; invoiceId: string }> {
    await client.emptyCart();
    await client.send('/cart/add', { form: { productId, quantity: '1' } });
    await client.send('/checkout/delivery', { form: { deliveryMethodId: deliveryId } });
    await client.send('/checkout/address', {
      form: {
        fullName: 'Node Walker',
        line1: '3 Cluster Road',
        line2: '',
        postalCode: '10115',
        city: 'Berlin',
        country: 'de',
      },
    });
    const page = await (await client.send('/checkout/pay')).text();
    const cartId = /name="cartId" value="([^"]+)"/.exec(page)?.[1];
    assert.ok(cartId, `the pay page shows the cart; ${hint}`);
    const res = await client.send('/checkout/pay', { form: { cartId } });
    const location = res.headers.get('location') ?? '';
    assert.ok(
      location.startsWith(`${gw.url}/pay/ps_`),
      `sent to the hosted page, got ${res.status} ${location}; ${hint}`,
    );
    const sessionId = location.slice(location.lastIndexOf('/') + 1);
    const [att] = await rows<{ invoice_id: string }>(
      shopDb.db,
      sql`select invoice_id from payment_attempts where gateway_session_id = ${sessionId}`,
    );
    return { sessionId, invoiceId: att!.invoice_id };
  }

  const authorize = async (sessionId: string) => {
    const res = await fetch(`${gw.url}/pay/${sessionId}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(cardDetails(APPROVED_CARD, { name: 'Node Walker' })),
    });
    return ((await res.json()) as { status: string }).status;
  };

  async function catalog(): Promise<{ productIds: string[]; deliveryId: string }> {
    const products = await rows<{ id: string }>(shopDb.db, sql`select id from products order by created_at`);
    const [delivery] = await rows<{ id: string }>(
      shopDb.db,
      sql`select id from delivery_methods order by position limit 1`,
    );
    return { productIds: products.map((p) => p.id), deliveryId: delivery!.id };
  }

  const webhookNodes = () => proxy.served.filter((s) => s.method === 'POST' && s.path === '/webhooks/gateway');

  it('(a, b) webhooks land on every node, and watchers on every node see the payment a webhook committed on one of them', async () => {
    const { productIds, deliveryId } = await catalog();
    const client = customer();
    assert.equal((await client.login(...DEMO.customer)).status, 303, `login through the proxy; ${hint}`);
    const token = client.cookies.get(SESSION_COOKIE)!;
    let watched = 0;
    let attributed = 0;
    let crossNode = 0;
    // Until each node has served webhooks (round robin interleaves them with the customer's own
    // requests) and at least one payment was committed by a webhook whose node we know.
    for (
      let round = 0;
      round < 12 && (new Set(webhookNodes().map((s) => s.backend)).size < NODES || attributed === 0);
      round++
    ) {
      const { sessionId, invoiceId } = await checkout(client, random.pick(productIds), deliveryId);
      const room = `invoice:${invoiceId}`;
      const sockets: { node: number | 'proxy'; socket: TestSocket }[] = [];
      for (const n of nodes)
        sockets.push({
          node: n.index,
          socket: await connectTestSocket(`ws://127.0.0.1:${n.port}/ws`, {
            headers: { cookie: `${SESSION_COOKIE}=${token}` },
          }),
        });
      sockets.push({
        node: 'proxy',
        socket: await connectTestSocket(`${proxy.url.replace('http', 'ws')}/ws`, {
          headers: { cookie: `${SESSION_COOKIE}=${token}` },
        }),
      });
      try {
        for (const { socket } of sockets) {
          socket.send({ type: 'join', room });
          await socket.next((f) => f.type === 'joined' && f.room === room);
        }
        assert.equal(await authorize(sessionId), 'authorized', hint);
        for (const { node, socket } of sockets) {
          await socket
            .next(
              (f) => f.type === 'message' && f.room === room && (f.payload as { status?: string }).status === 'paid',
              15_000,
            )
            .catch((err: Error) => {
              throw new Error(`watcher on node ${node} did not see ${invoiceId} paid: ${err.message}; ${hint}`);
            });
        }
        watched++;
        // Who committed it: a webhook (then the node the proxy sent that webhook-id to first with a 200),
        // or a node's reconciliation job reading the feed first (then we cannot tell which node).
        const [applied] = await rows<{ event_id: string; source: string }>(
          shopDb.db,
          sql`select event_id, source from gateway_events where invoice_id = ${invoiceId} and verdict = 'accepted' and status in ('authorized', 'captured') order by applied_at limit 1`,
        );
        if (applied?.source !== 'webhook') continue;
        let committer: number | undefined;
        for (let i = 0; i < 100 && committer === undefined; i++) {
          committer = proxy.served.find((s) => s.webhookId === applied.event_id && s.status === 200)?.backend;
          if (committer === undefined) await sleep(100);
        }
        assert.ok(
          committer !== undefined,
          `the webhook ${applied.event_id} that committed ${invoiceId} went through the proxy; ${hint}`,
        );
        attributed++;
        crossNode += sockets.filter((s) => s.node !== 'proxy' && s.node !== committer).length;
      } finally {
        for (const { socket } of sockets) await socket.close();
      }
    }
    const perNode = nodes.map((n) => webhookNodes().filter((s) => s.backend === n.index).length);
    figures.webhooksPerNodeBeforeKill = perNode.join('/');
    figures.watchedPayments = watched;
    figures.paymentsCommittedByAKnownNode = attributed;
    figures.crossNodeWatchersNotified = crossNode;
    assert.ok(
      perNode.every((c) => c > 0),
      `every node served webhooks: ${perNode}; ${hint}`,
    );
    // Every watcher saw every payment (checked above); at least one was committed by a webhook on a known node, seen on the two others.
    assert.ok(attributed > 0, `a payment committed by a webhook whose node is known; ${hint}`);
  });

  it('(c) under load, a node killed with SIGKILL loses nothing: every authorisation is captured and paid once, its jobs are taken over, sessions keep working', async () => {
    const { productIds, deliveryId } = await catalog();
    const lanes = sized(3, 8);
    const perLane = sized(4, 40);
    const total = lanes * perLane;
    const clients: ShopClient[] = [];
    for (let i = 0; i < lanes; i++) {
      const email = `node-walker-${i}-${seed}@shop.test`;
      await createUser(shopDb.db, { email, name: `Walker ${i}`, password: 'walker-password-1' }, new Date());
      const c = customer();
      assert.equal((await c.login(email, 'walker-password-1')).status, 303, hint);
      clients.push(c);
    }
    const victim = nodes[1 + random.int(NODES - 1)]!;
    let done = 0;
    let killedAt = -1;
    let heldByVictim: { id: string; task: string }[] = [];
    const payments: { sessionId: string; invoiceId: string; afterKill: boolean }[] = [];
    const webhooksBefore = webhookNodes().length;
    let killTime = 0;
    let servedAtKill = 0;
    const kill = async () => {
      killedAt = done;
      // Preferably while the victim holds a job (the recurring reconciliation, every 2 s), so that its
      // lease must expire and another node take the job over; after 4 s of looking, kill it anyway.
      const victimJobs = () =>
        rows<{ id: string; task: string }>(
          shopDb.db,
          sql`select id, task from jobs where status = 'running' and locked_by like ${`%:${victim.child.pid}:%`}`,
        );
      for (let i = 0; i < 400 && (heldByVictim = await victimJobs()).length === 0; i++) await sleep(10);
      victim.child.kill('SIGKILL');
      killTime = Date.now();
      servedAtKill = proxy.served.length;
    };
    const t0 = Date.now();
    await Promise.all(
      clients.map(async (client, lane) => {
        const pick = random.fork(`lane-${lane}`);
        for (let i = 0; i < perLane; i++) {
          const afterKill = killedAt >= 0;
          const { sessionId, invoiceId } = await checkout(client, pick.pick(productIds), deliveryId);
          assert.equal(await authorize(sessionId), 'authorized', hint);
          payments.push({ sessionId, invoiceId, afterKill });
          if (++done === Math.ceil(total / 3)) await kill();
        }
      }),
    );
    const loadMs = Date.now() - t0;
    assert.ok(killedAt >= 0, hint);
    for (let i = 0; i < 50 && !victim.dead; i++) await sleep(100);
    assert.ok(victim.dead, `the victim's process is gone; ${hint}`);

    // Everything settles on the two nodes left: captured at the gateway, paid and captured at the shop.
    const refs = payments.map((p) => p.invoiceId);
    const sessions = payments.map((p) => p.sessionId);
    const settled = async () => {
      // Money in flight: authorised at the bank but neither captured nor voided; or a shop attempt of a paid session not final yet.
      const [b] = await rows<{ open: number }>(
        bank.bank.database.db,
        sql`select count(*)::int as open from authorizations where status = 'approved'`,
      );
      const [s] = await rows<{ open: number }>(
        shopDb.db,
        sql`select count(*)::int as open from payment_attempts where gateway_session_id = any(${textArray(sessions)}) and status not in ('captured', 'voided', 'refused')`,
      );
      return b!.open === 0 && s!.open === 0;
    };
    const until = Date.now() + 60_000;
    while (!(await settled()) && Date.now() < until) await sleep(250);
    // The dead node's leases end 5 s after the kill; then a surviving node's poll takes each of its jobs
    // over. Read until nothing sits on an ended lease and every job it held is taken over, or until
    // 30 s past the leases' end: a loaded machine may run the poll late, but it must run it.
    const readLeases = async () => ({
      stuck: await rows<{ id: string; task: string; locked_by: string }>(
        shopDb.db,
        sql`select id, task, locked_by from jobs where status = 'running' and locked_until < now()`,
      ),
      takenOver: heldByVictim.length
        ? await rows<{ id: string }>(
            shopDb.db,
            sql`select id from jobs where id = any(${textArray(heldByVictim.map((j) => j.id))}) and (status <> 'running' or locked_by not like ${`%:${victim.child.pid}:%`})`,
          )
        : [],
    });
    await sleep(Math.max(0, LEASE_SECONDS * 1000 - (Date.now() - killTime)));
    const { stuck, takenOver } = await waitFor(
      readLeases,
      (l) => l.stuck.length === 0 && l.takenOver.length === heldByVictim.length,
      30_000,
    );

    // The model: every payment authorised at the gateway is captured once there, debited once at the bank, paid once at the shop.
    const shop = new Map(
      (
        await rows<{ invoice_id: string; invoice: string; attempt: string; pays: number }>(
          shopDb.db,
          sql`select i.id as invoice_id, i.status as invoice, a.status as attempt,
                   (select count(*)::int from audit_log l where l.action = 'invoice.pay' and l.subject = i.id) as pays
            from invoices i join payment_attempts a on a.invoice_id = i.id where i.id = any(${textArray(refs)}) and a.gateway_session_id is not null`,
        )
      ).map((r) => [r.invoice_id, r]),
    );
    const gateway = new Map(
      (
        await rows<{ id: string; status: string }>(
          gw.database.db,
          sql`select id, status from payment_sessions where merchant_reference = any(${textArray(refs)})`,
        )
      ).map((r) => [r.id, r]),
    );
    const debits = new Map(
      (
        await rows<{ gateway_ref: string; captures: number }>(
          bank.bank.database.db,
          sql`select a.gateway_ref, (select count(*)::int from movements m where m.authorization_id = a.id and m.kind = 'capture') as captures from authorizations a`,
        )
      ).map((r) => [r.gateway_ref, r.captures]),
    );
    let lost = 0;
    let doubleFulfilled = 0;
    for (const p of payments) {
      const want = { invoice: 'paid', attempt: 'captured', pays: 1, gateway: 'captured', debits: 1 };
      const s = shop.get(p.invoiceId);
      const got = {
        invoice: s?.invoice,
        attempt: s?.attempt,
        pays: s?.pays,
        gateway: gateway.get(p.sessionId)?.status,
        debits: debits.get(p.sessionId),
      };
      if (JSON.stringify(got) === JSON.stringify(want)) continue;
      failures.push({
        case: `${p.sessionId} ${p.invoiceId}${p.afterKill ? ' (after the kill)' : ''}`,
        detail: `want ${JSON.stringify(want)} got ${JSON.stringify(got)}`,
      });
      if ((got.pays ?? 0) > 1 || (got.debits ?? 0) > 1) doubleFulfilled++;
      else lost++;
    }
    // Every debit at the bank (this test's and the watchers' payments alike) is a captured attempt of a paid invoice at the shop.
    const bankHeld = await rows<{ gateway_ref: string; status: string }>(
      bank.bank.database.db,
      sql`select gateway_ref, status from authorizations where status not in ('captured', 'voided', 'declined')`,
    );
    const bankCaptured = (
      await rows<{ gateway_ref: string }>(
        bank.bank.database.db,
        sql`select gateway_ref from authorizations where status = 'captured'`,
      )
    ).map((r) => r.gateway_ref);
    const shopPaid = new Set(
      (
        await rows<{ gateway_session_id: string }>(
          shopDb.db,
          sql`select a.gateway_session_id from payment_attempts a join invoices i on i.id = a.invoice_id where a.status = 'captured' and i.status = 'paid'`,
        )
      ).map((r) => r.gateway_session_id),
    );
    for (const h of bankHeld)
      failures.push({ case: `bank ${h.gateway_ref}`, detail: `left ${h.status}: neither captured nor voided` });
    for (const ref of bankCaptured.filter((r) => !shopPaid.has(r)))
      failures.push({ case: `bank ${ref}`, detail: 'debited, but not a paid invoice at the shop' });
    lost += bankHeld.length + bankCaptured.filter((r) => !shopPaid.has(r)).length;
    figures.bankDebits = bankCaptured.length;

    // Webhook deliveries the dead node could not answer, answered by another node on the gateway's retry.
    const [redelivered] = await rows<{ n: number }>(
      gw.database.db,
      sql`select count(distinct d.id)::int as n from webhook_deliveries d join webhook_attempts a on a.delivery_id = d.id
          where d.status = 'delivered' and (a.status_code is null or a.status_code >= 500)`,
    );
    const perNode = nodes.map(
      (n) =>
        webhookNodes()
          .slice(webhooksBefore)
          .filter((s) => s.backend === n.index).length,
    );
    Object.assign(figures, {
      payments: payments.length,
      paymentsAfterKill: payments.filter((p) => p.afterKill).length,
      killedNode: victim.index,
      killedAfterPayments: killedAt,
      webhooksPerNodeUnderLoad: perNode.join('/'),
      webhookDeliveriesRetriedElsewhere: redelivered!.n,
      customerRequestsRetried: retriedRequests,
      jobsHeldByKilledNode: heldByVictim.length,
      jobsTakenOver: takenOver.length,
      stuckJobs: stuck.length,
      loadMs,
    });
    report = {
      cases: payments.length,
      lost,
      doubleFulfilled,
      recovered: redelivered!.n + retriedRequests + takenOver.length,
    };

    // The books after the kill: both ledgers balance and shop, gateway and bank agree to the cent.
    const books = await settledBooks({ gateway: gw.database.db, bank: bank.bank.database.db, shop: shopDb.db });
    assert.deepEqual(
      books.findings.map((f) => `${f.party} ${f.check} ${f.subject}: ${f.detail}`),
      [],
      `ledger verify (0 unbalanced, 0 unmatched); ${hint}`,
    );
    assert.ok((books.matched.shopPaid ?? 0) >= payments.length, `the match compared the payments; ${hint}`);
    assert.equal(
      payments.length,
      total,
      `every customer finished (their sessions worked on the surviving nodes); ${hint}`,
    );
    assert.ok(
      payments.some((p) => p.afterKill),
      `payments continued after the kill; ${hint}`,
    );
    assert.equal(lost, 0, `lost: ${JSON.stringify(failures.slice(0, 5))}; ${hint}`);
    assert.equal(doubleFulfilled, 0, `double fulfilment: ${JSON.stringify(failures.slice(0, 5))}; ${hint}`);
    assert.deepEqual(stuck, [], `no job stuck on a dead node's lease; ${hint}`);
    assert.equal(takenOver.length, heldByVictim.length, `every job the dead node held was taken over; ${hint}`);
    assert.deepEqual(
      proxy.served.slice(servedAtKill).filter((s) => s.backend === victim.index && s.at > killTime),
      [],
      `nothing forwarded to the dead node after the kill was answered; ${hint}`,
    );
    assert.ok(
      perNode.filter((n, i) => i !== victim.index && n > 0).length === NODES - 1,
      `the surviving nodes shared the webhooks: ${perNode}; ${hint}`,
    );
  });
});
