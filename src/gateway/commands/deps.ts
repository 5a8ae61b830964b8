// What the gateway's commands are given: passed by hand from main.ts, never looked up.
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/log.ts';
import type { FeePolicy } from '../domain/ledger.payment.ts';
import type { IssuerPort } from '../issuer/issuer.port.ts';

export interface GatewayDeps {
  readonly database: Database;
  readonly issuer: IssuerPort;
  readonly clock: Clock;
  /** HMAC key of card fingerprints. */
  readonly fingerprintSecret: string;
  readonly log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The fee taken per capture (GATEWAY_FEE_PER_CAPTURE); none when absent. */
  readonly fees?: FeePolicy;
}
