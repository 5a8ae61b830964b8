// A merchant's browser on the gateway's dashboard, over plain HTTP: one cookie, the CSRF token of the
// last page, forms posted as a browser posts them (same origin, urlencoded, no redirect followed).
export class DashboardClient {
  cookie = '';
  constructor(readonly base: string) {}

  async get(path: string): Promise<Response> {
    return fetch(`${this.base}${path}`, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
  }

  async text(path: string): Promise<string> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return res.text();
  }

  /** The CSRF token of the session (read from the payments page). */
  async csrf(): Promise<string> {
    const m = /name="csrf" value="([^"]+)"/.exec(await this.text('/dashboard'));
    if (!m) throw new Error('no CSRF token on the page');
    return m[1]!;
  }

  /** POSTs a form; `csrf: true` adds the session's token. Keeps a new session cookie. */
  async post(path: string, form: Record<string, string>, options: { csrf?: boolean } = {}): Promise<Response> {
    const body = new URLSearchParams({ ...form, ...(options.csrf ? { csrf: await this.csrf() } : {}) });
    const res = await fetch(`${this.base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.base,
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body,
    });
    const set = res.headers.get('set-cookie');
    if (set?.startsWith('gw_session=')) this.cookie = set.split(';')[0]!;
    return res;
  }

  async signUp(input: { email: string; password: string; business_name: string; webhook_url?: string }) {
    const res = await this.post('/dashboard/signup', { webhook_url: '', ...input });
    const html = await res.text();
    const apiKey = /<code>(sk_test_[^<]+)<\/code>/.exec(html)?.[1];
    const secret = /<code>(whsec_[^<]+)<\/code>/.exec(html)?.[1];
    return { res, html, apiKey, secret };
  }

  async logIn(email: string, password: string): Promise<Response> {
    return this.post('/dashboard/login', { email, password });
  }
}
