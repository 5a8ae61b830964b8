// The cardholder's side: answers an approval request in the bank app as the demo cardholder would
// (log in, find the open approval for the card, approve or decline). For `countersign trigger`.
import { CliError, EXIT } from './exit-codes.ts';
import type { CliContext } from './context.ts';
import { unreachable } from './http.ts';
import { parseServiceBase } from '../platform/service.ts';

export const DEMO_CARDHOLDER = { email: 'demo@bank.test', password: 'demo-bank-password' } as const;

/** The bank's URL: BANK_PUBLIC_URL / BANK_PORT, as for the other parties. */
export function bankUrl(ctx: CliContext): string {
  return (ctx.env.COUNTERSIGN_BANK_URL ?? parseServiceBase('bank', 3002, ctx.env).publicUrl).replace(/\/$/, '');
}

async function call(ctx: CliContext, url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await ctx.fetch(url, { redirect: 'manual', ...init });
  } catch (err) {
    throw unreachable('bank', new URL(url).origin, err);
  }
}

/** Logs in as the demo cardholder; the session cookie and the app's CSRF token. */
async function logIn(ctx: CliContext, base: string): Promise<{ cookie: string; csrf: string }> {
  const page = await call(ctx, `${base}/login`);
  const loginCsrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const loginCookie = (page.headers.getSetCookie().find((c) => c.startsWith('bank_login_csrf=')) ?? '').split(';')[0]!;
  const res = await call(ctx, `${base}/login`, {
    method: 'POST',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...DEMO_CARDHOLDER, csrf: loginCsrf }),
  });
  const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('bank_session=')) ?? '').split(';')[0]!;
  if (!cookie)
    throw new CliError(EXIT.refused, "the bank app refused the demo cardholder's login", 'bank.login_refused');
  const app = await call(ctx, `${base}/app`, { headers: { cookie } });
  return { cookie, csrf: /data-csrf="([^"]+)"/.exec(await app.text())?.[1] ?? '' };
}

/** Approves or declines the newest open approval request for a card ending in `last4`; resolves with its id. */
export async function answerApproval(ctx: CliContext, last4: string, answer: 'approve' | 'decline'): Promise<string> {
  const base = bankUrl(ctx);
  const session = await logIn(ctx, base);
  const html = await (await call(ctx, `${base}/app`, { headers: { cookie: session.cookie } })).text();
  const open = [...html.matchAll(/data-approval-id="(apr_[0-9A-Z]{26})"[\s\S]*?•••• (\d{4})/g)]
    .filter((m) => m[2] === last4)
    .map((m) => m[1]!)
    .sort();
  const id = open.at(-1);
  if (!id)
    throw new CliError(
      EXIT.problem,
      `no open approval request for the card •••• ${last4} in the bank app`,
      'bank.no_approval',
    );
  const res = await call(ctx, `${base}/app/approvals/${id}/${answer}`, {
    method: 'POST',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, accept: 'application/json' },
  });
  if (!res.ok)
    throw new CliError(EXIT.problem, `the bank app refused to ${answer} ${id} (${res.status})`, 'bank.answer_refused');
  return id;
}
