// A tiny cookie-keeping client for the shop's app in process (app.request), with helpers to read the
// CSRF token from a page and to log in as someone.
import assert from 'node:assert/strict';

type Fetcher = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

export interface SendOptions {
  method?: string;
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Adds the page's CSRF token (form field or header) unless false. */
  csrf?: boolean | string;
}

/** One browser's worth of cookies talking to the shop. */
export class ShopClient {
  readonly cookies = new Map<string, string>();
  lastCsrf: string | undefined;
  constructor(
    private readonly app: Fetcher,
    readonly ip = '203.0.113.7',
  ) {}

  async send(path: string, options: SendOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { 'x-forwarded-for': this.ip, accept: 'text/html', ...options.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    const method = options.method ?? (options.form || options.json !== undefined ? 'POST' : 'GET');
    const token =
      typeof options.csrf === 'string'
        ? options.csrf
        : options.csrf === false
          ? undefined
          : method !== 'GET'
            ? await this.csrf()
            : undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ ...(token ? { _csrf: token } : {}), ...options.form }).toString();
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      if (token) headers['x-csrf-token'] = token;
      body = JSON.stringify(options.json);
    } else if (token && method !== 'GET') {
      headers['x-csrf-token'] = token;
    }
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.request(path, { method, headers, body });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      if (attrs.some((a) => /max-age=0/i.test(a.trim())) || value === '') this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
    return res;
  }

  /** The CSRF token a page served to this client carries. */
  async csrf(): Promise<string> {
    const res = await this.send('/login', { csrf: false });
    const html = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    assert.ok(m, 'page has a CSRF field');
    this.lastCsrf = m[1]!;
    return m[1]!;
  }

  /** Removes everything from this customer's cart. */
  async emptyCart(): Promise<void> {
    const cart = (await (await this.send('/api/cart')).json()) as { lines: Array<{ productId: string }> };
    for (const line of cart.lines) await this.send('/cart/remove', { form: { productId: line.productId } });
  }

  /** Logs in; returns the response (303 to `next` on success). */
  async login(email: string, password: string, next?: string): Promise<Response> {
    return this.send(`/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, { form: { email, password } });
  }
}
