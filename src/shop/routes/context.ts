// What every shop route sees: the dependencies wired in main.ts and the per-request variables set by
// the session middleware (the logged-in user, the session token, the CSRF token for forms).
import type { Context } from 'hono';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { AppEnv } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/log.ts';
import type { LoginLimits } from '../domain/login-limit.ts';
import type { GatewayPort } from '../domain/gateway.port.ts';
import type { User } from '../storage/accounts.ts';
import type { CartView } from '../storage/cart.ts';
import type { RetentionConfig } from '../jobs/retention.ts';

/** The shop's settings the routes need (parsed once in main.ts). */
export interface ShopSettings {
  readonly publicUrl: string;
  readonly sessionSecret: string;
  readonly sessionTtlSeconds: number;
  readonly invoiceTtlSeconds: number;
  /** Failed-login limits per account and per address (SHOP_LOGIN_*). */
  readonly login: LoginLimits;
  /** How many proxies of ours append to X-Forwarded-For (SHOP_TRUST_PROXY); 0: the header is ignored. */
  readonly trustedProxyHops: number;
  /** The origin of the gateway's hosted payment page, where "Pay now" sends the browser (SHOP_GATEWAY_PAGE_ORIGIN). */
  readonly gatewayPageOrigin?: string;
  /** Refunds above this (minor units) need a second staff member's approval (SHOP_REFUND_APPROVAL_THRESHOLD_MINOR). */
  readonly refundApprovalThresholdMinor?: bigint;
  /** How long history is kept: the staff pages say so (SHOP_*_RETENTION_DAYS). */
  readonly retention?: RetentionConfig;
}

/** Hand-wired dependencies of the shop's routes. */
export interface ShopDeps {
  readonly database: Database;
  readonly clock: Clock;
  readonly settings: ShopSettings;
  readonly log: Logger;
  /** The payment gateway; absent when no API key is configured ("Pay now" only shows the invoice). */
  readonly gateway?: GatewayPort;
}

export type ShopEnv = AppEnv<{
  user: User | undefined;
  sessionToken: string | undefined;
  csrfToken: string;
  /** Items in the open cart, read with the session on GET requests (absent otherwise). */
  cartCount: number | undefined;
  /** The open cart, read with the session on GET requests for the pages that show it (absent otherwise). */
  cartView: CartView | undefined;
}>;

export type ShopContext = Context<ShopEnv>;
