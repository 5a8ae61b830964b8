// What every dashboard router shares: its environment (the login of the request), its dependencies,
// the HTML answer, the page view of a login, and the owner check.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { createRouter, type AppEnv } from '../../platform/http/app.ts';
import { mayDo, type LoginLimits, type OwnerAction } from '../domain/dashboard-account.rule.ts';
import type { GatewayDeps } from '../commands/deps.ts';
import type { WebhookNetworks } from '../domain/webhook-url.rule.ts';
import type { DashView } from '../pages/dashboard-layout.tsx';
import type { DashboardLogin } from '../storage/dashboard.ts';
import type { MerchantRow } from '../storage/tables.ts';

export type Env = AppEnv<{ merchant: MerchantRow; csrf: string; user: DashboardLogin['user'] }>;
export type Router = ReturnType<typeof createRouter<Env>>;

export type DashboardDeps = {
  database: Database;
  clock: Clock;
  publicUrl: () => string;
  wake?: () => void;
  /** Sign-up open (GATEWAY_SIGNUP, on by default). */
  signup?: boolean;
  allowHttpWebhooks?: boolean;
  webhookNetworks?: WebhookNetworks;
  loginLimits?: LoginLimits;
  /** The fetch of merchant-given URLs (the outbound guard): the test event. */
  merchantFetch?: typeof fetch;
  /** For the journey page, which also reads the bank's records. */
  gateway?: GatewayDeps;
};

/** An HTML answer. */
export const html = (c: Context, node: unknown, status = 200) =>
  c.html('<!doctype html>' + String(node), status as 200);

/** The view every logged-in page is drawn with. */
export function viewOf(c: Context<Env>, clock: Clock): DashView {
  return { merchant: c.get('merchant'), csrf: c.get('csrf'), user: c.get('user'), now: clock.now() };
}

/** Refuses (403) a member asking for an owner's action; an API-key login acts as an owner. */
export function requireOwner(c: Context<Env>, action: OwnerAction): void {
  const user = c.get('user');
  if (user && !mayDo(user.role, action)) throw new DomainError('auth.forbidden', { action });
}

/** The socket's address (the login limit's unit); "unknown" without one (in-process tests). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A form field as a string ('' when absent or a file). */
export function field(form: Record<string, unknown>, name: string): string {
  const v = form[name];
  return typeof v === 'string' ? v : '';
}
