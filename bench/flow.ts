// Issue 7, item 1: the full flow as N virtual customers, each a browser without a renderer. Each logs
// in once, then loops: fill the cart, the four checkout steps, "Pay now" (the shop creates the
// invoice, the attempt and the gateway session, and redirects to the hosted page), pay with the
// instantly approved card 4242 through the hosted page's own endpoint (what pay.js posts), and wait
// until the shop reports the invoice paid on the customer's own WebSocket (the invoice room, joined
// before paying, as the invoice page does). Every page a browser would load is loaded (redirects are
// followed), so the shop does the work a real checkout costs it; static assets are not.
import { WebSocket } from 'ws';
import { idle, sleep, StepTimings } from './stats.ts';

/** Steps in the order a customer takes them; `order` is the whole loop, cart to paid. */
export const FLOW_STEPS = [
  'cart',
  'review',
  'delivery',
  'address',
  'summary',
  'pay_now',
  'watch',
  'authorize',
  'until_paid',
  'order',
] as const;

const PAN = '4242424242424242';
const PASSWORD = 'bench-customer-password';

/** A cookie jar and the last CSRF token a shop page carried; follows redirects like a browser. */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly shop: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || attrs.some((a) => /max-age=0/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request; shop cookies are sent only to the shop. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; json?: unknown } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: init.json !== undefined ? 'application/json' : 'text/html' };
    const toShop = url.startsWith(this.shop);
    if (toShop && this.cookies.size) headers.cookie = this.cookieHeader();
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ _csrf: this.csrf, ...init.form }).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    if (toShop) this.keep(res);
    return res;
  }

  /** Loads a page (following redirects), checks the status, remembers its CSRF token; returns the final URL and HTML. */
  async page(
    path: string,
    init: { form?: Record<string, string> } = {},
    expect = 200,
  ): Promise<{ url: string; html: string }> {
    let url = path.startsWith('http') ? path : this.shop + path;
    let res = await this.request(url, init);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 5) throw new Error(`too many redirects from ${path}`);
      await res.arrayBuffer();
      url = new URL(res.headers.get('location')!, url).toString();
      res = await this.request(url);
    }
    const html = await res.text();
    if (res.status !== expect)
      throw new Error(
        `${init.form ? 'POST' : 'GET'} ${path} → ${url}: ${res.status} ${html.slice(0, 300).replace(/\s+/g, ' ')}`,
      );
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (m && url.startsWith(this.shop)) this.csrf = m[1]!;
    return { url, html };
  }
}

/** The customer's socket on the shop's hub: joins invoice rooms and resolves when a room reports paid. */
export class InvoiceSocket {
  private ws!: WebSocket;
  private readonly joined = new Map<string, () => void>();
  private readonly paid = new Map<string, () => void>();
  private readonly refused = new Map<string, (e: Error) => void>();

  constructor(private readonly browser: Browser) {}

  async open(): Promise<void> {
    this.ws = new WebSocket(`${this.browser.shop.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: this.browser.cookieHeader(), origin: this.browser.shop },
      perMessageDeflate: false,
    });
    this.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        room?: string;
        code?: string;
        message?: string;
        payload?: { status?: string };
      };
      if (!frame.room) return;
      if (frame.type === 'joined') this.joined.get(frame.room)?.();
      else if (frame.type === 'message' && frame.payload?.status === 'paid') this.paid.get(frame.room)?.();
      else if (frame.type === 'error')
        this.refused.get(frame.room)?.(new Error(`join ${frame.room}: ${frame.code} ${frame.message}`));
    });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('error', () => undefined);
  }

  get open_(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Joins `invoice:<id>`; resolves on `joined` with a promise of the paid message (boxed: an async function would flatten it). */
  async join(invoiceId: string): Promise<{ paid: Promise<void> }> {
    if (!this.open_) await this.open();
    const room = `invoice:${invoiceId}`;
    const paid = new Promise<void>((resolve) => this.paid.set(room, resolve));
    await new Promise<void>((resolve, reject) => {
      this.joined.set(room, resolve);
      this.refused.set(room, reject);
      this.ws.send(JSON.stringify({ type: 'join', room }));
    });
    return { paid };
  }

  leave(invoiceId: string): void {
    const room = `invoice:${invoiceId}`;
    this.joined.delete(room);
    this.paid.delete(room);
    this.refused.delete(room);
    if (this.open_) this.ws.send(JSON.stringify({ type: 'leave', room }));
  }

  close(): void {
    this.ws?.terminate();
  }
}

export interface Customer {
  readonly index: number;
  readonly email: string;
  readonly browser: Browser;
  readonly socket: InvoiceSocket;
}

/** Registers a fresh customer (setup, not measured) and logs in once. */
export async function newCustomer(shop: string, runId: string, index: number): Promise<Customer> {
  const email = `bench-${runId}-${index}@shop.test`;
  const reg = new Browser(shop);
  await reg.page('/register');
  await reg.page('/register', { form: { name: `Bench customer ${index}`, email, password: PASSWORD } });
  // Logging in is what the issue's customer does; the registration's own session is simply dropped.
  const browser = new Browser(shop);
  await browser.page('/login');
  await browser.page('/login', { form: { email, password: PASSWORD } });
  if (!browser.cookies.has('shop_session')) throw new Error(`login of ${email} set no session cookie`);
  const socket = new InvoiceSocket(browser);
  await socket.open();
  return { index, email, browser, socket };
}

export interface OrderHooks {
  /** Called with the invoice id before the card is submitted (the push watchers join its room here). */
  beforePay?: (customer: Customer, invoiceId: string) => Promise<void>;
}

export interface OrderResult {
  readonly invoiceId: string;
  readonly sessionId: string;
  readonly paidAt: number;
}

const attr = (html: string, re: RegExp, what: string): string => {
  const m = re.exec(html);
  if (!m) throw new Error(`page has no ${what}`);
  return m[1]!;
};

/**
 * One order from cart to paid, each step timed into `timings` (kept only while it records).
 * Throws when a step fails; the caller counts it and goes on.
 */
export async function oneOrder(
  c: Customer,
  productId: string,
  timings: StepTimings,
  hooks: OrderHooks = {},
  paidTimeoutMs = 30_000,
): Promise<OrderResult> {
  const b = c.browser;
  const t0 = performance.now();
  await timings.time('cart', () => b.page('/cart/add', { form: { productId, quantity: '1' } }));
  await timings.time('review', () => b.page('/checkout'));
  const delivery = await timings.time('delivery', () => b.page('/checkout/delivery'));
  const methodId = attr(
    delivery.html,
    /name="deliveryMethodId" value="([^"]+)"[^>]*checked/,
    'checked delivery method',
  );
  await timings.time('address', () => b.page('/checkout/delivery', { form: { deliveryMethodId: methodId } }));
  const summary = await timings.time('summary', () =>
    b.page('/checkout/address', {
      form: {
        fullName: `Bench customer ${c.index}`,
        line1: 'Benchstraße 1',
        line2: '',
        postalCode: '10115',
        city: 'Berlin',
        country: 'DE',
      },
    }),
  );
  if (!summary.url.endsWith('/checkout/pay')) throw new Error(`address step ended on ${summary.url}`);
  const cartId = attr(summary.html, /name="cartId" value="([^"]+)"/, 'cart id');
  // "Pay now": the shop places the order, issues the invoice, opens the gateway session and redirects
  // to the hosted page, whose HTML names the invoice (the merchant reference).
  const hosted = await timings.time('pay_now', () => b.page('/checkout/pay', { form: { cartId } }));
  const sessionId = attr(hosted.url, /\/pay\/(ps_[0-9A-Za-z_]+)/, 'payment session in the URL');
  const invoiceId = attr(hosted.html, /id="reference">(inv_[0-9A-Za-z_]+)</, 'invoice reference');
  const { paid } = await timings.time('watch', async () => {
    const [own] = await Promise.all([c.socket.join(invoiceId), hooks.beforePay?.(c, invoiceId)]);
    return own;
  });
  await timings.time('authorize', async () => {
    const gateway = new URL(hosted.url).origin;
    const res = await b.request(`${gateway}/pay/${sessionId}/authorize`, {
      json: { number: PAN, exp_month: 12, exp_year: 34, cvc: '123', name: `Bench customer ${c.index}` },
    });
    const body = (await res.json()) as { status?: string };
    if (!res.ok || !['authorized', 'captured', 'processing'].includes(body.status ?? ''))
      throw new Error(`authorize ${sessionId}: ${res.status} ${JSON.stringify(body)}`);
  });
  await timings.time('until_paid', async () => {
    // The pushed status is the shop's report; when none comes, ask the shop's API as the owner (the
    // invoice page's own fallback) so that a lost message shows as latency, not as a hang.
    const deadline = Date.now() + paidTimeoutMs;
    let pushed = false;
    void paid.then(() => (pushed = true));
    await Promise.race([paid, idle(5_000)]);
    while (!pushed) {
      const res = await b.request(`${b.shop}/api/invoices/${invoiceId}/status`);
      const s = (await res.json()) as { status?: string };
      if (s.status === 'paid') break;
      if (Date.now() > deadline)
        throw new Error(`invoice ${invoiceId} not paid within ${paidTimeoutMs} ms (status ${s.status})`);
      await Promise.race([paid, idle(500)]);
    }
  });
  c.socket.leave(invoiceId);
  const paidAt = performance.now();
  timings.add('order', paidAt - t0);
  return { invoiceId, sessionId, paidAt };
}

export interface FlowProgress {
  readonly elapsedS: number;
  readonly paid: number;
  readonly ratePerS: number;
}

export interface FlowResult {
  readonly customers: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Orders paid inside the measured window. */
  readonly paidOrders: number;
  readonly paidPerSecond: number;
  readonly errors: number;
  readonly errorSamples: string[];
  readonly steps: ReturnType<StepTimings['summaries']>;
  /** Paid orders per second of the measured window, second by second. */
  readonly throughput: Array<{ t: number; paid: number }>;
}

/**
 * Runs `customers` loops for warm-up + duration seconds. `onMeasureStart` fires when the warm-up
 * ends (read the counters there); `tick` every `progressEveryS`.
 */
export async function runFlow(opts: {
  customers: readonly Customer[];
  productId: string;
  warmupS: number;
  durationS: number;
  hooks?: OrderHooks;
  onMeasureStart?: () => Promise<void> | void;
  /** Fires when the measured window closes, before the loops in flight finish. */
  onMeasureEnd?: () => Promise<void> | void;
  progress?: (p: FlowProgress & { phase: 'warmup' | 'measure' }) => void;
  progressEveryS?: number;
}): Promise<FlowResult> {
  const timings = new StepTimings();
  const startedAt = performance.now();
  let measureFrom = Number.POSITIVE_INFINITY;
  const measureUntil = () => measureFrom + opts.durationS * 1000;
  let stopping = false;
  let errors = 0;
  const errorSamples: string[] = [];
  const paidTimes: number[] = [];
  let paidAll = 0;

  const loops = opts.customers.map(async (c) => {
    while (!stopping) {
      try {
        const r = await oneOrder(c, opts.productId, timings, opts.hooks);
        paidAll++;
        if (r.paidAt >= measureFrom && r.paidAt <= measureUntil()) paidTimes.push(r.paidAt);
      } catch (err) {
        if (stopping) break;
        if (performance.now() >= measureFrom) errors++;
        if (errorSamples.length < 10) errorSamples.push(err instanceof Error ? err.message : String(err));
        await sleep(200);
      }
    }
  });

  const every = (opts.progressEveryS ?? 5) * 1000;
  let lastPaid = 0;
  let lastAt = startedAt;
  const ticker = setInterval(() => {
    const now = performance.now();
    const phase = now < measureFrom ? 'warmup' : 'measure';
    const count = phase === 'warmup' ? paidAll : paidTimes.length;
    const rate = ((paidAll - lastPaid) * 1000) / (now - lastAt);
    lastPaid = paidAll;
    lastAt = now;
    opts.progress?.({
      phase,
      elapsedS: Math.round((now - startedAt) / 1000),
      paid: count,
      ratePerS: Math.round(rate * 10) / 10,
    });
  }, every);

  try {
    await sleep(opts.warmupS * 1000);
    await opts.onMeasureStart?.();
    measureFrom = performance.now();
    timings.recording = true;
    await sleep(opts.durationS * 1000);
    timings.recording = false;
    stopping = true;
    await opts.onMeasureEnd?.();
    await Promise.race([Promise.all(loops), idle(35_000)]);
  } finally {
    stopping = true;
    clearInterval(ticker);
  }

  const seconds = Math.max(1, Math.round(opts.durationS));
  const buckets = Array.from({ length: seconds }, (_, t) => ({ t: t + 1, paid: 0 }));
  for (const at of paidTimes) buckets[Math.min(seconds - 1, Math.floor((at - measureFrom) / 1000))]!.paid++;
  return {
    customers: opts.customers.length,
    warmupS: opts.warmupS,
    durationS: opts.durationS,
    paidOrders: paidTimes.length,
    paidPerSecond: Math.round((paidTimes.length / opts.durationS) * 100) / 100,
    errors,
    errorSamples,
    steps: timings.summaries(),
    throughput: buckets,
  };
}
