// Who may join a real-time room on /ws: the owner of an invoice (or staff) its `invoice:<id>` room.
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import { canView } from '../domain/access.ts';
import { userForSession } from '../storage/accounts.ts';
import { getInvoice } from '../storage/orders.ts';
import { SESSION_COOKIE } from './session.ts';

/** The value of one cookie of an upgrade request. */
export function cookieFrom(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Decides whether the upgrade request's user may join a room: `invoice:<id>` of their own, or any as staff. */
export function invoiceRoomAuthorizer(database: Database, clock: Clock) {
  return async (room: string, req: IncomingMessage): Promise<boolean> => {
    const origin = req.headers.origin;
    // Only a page of this host (cross-site WebSocket hijacking would ride the cookie).
    if (origin !== undefined && new URL(origin).host !== req.headers.host) return false;
    const m = /^invoice:(inv_[0-9A-Za-z]{1,60})$/.exec(room);
    if (!m) return false;
    const token = cookieFrom(req, SESSION_COOKIE);
    if (!token) return false;
    const user = await userForSession(database.db, token, clock.now());
    if (!user) return false;
    const invoice = await getInvoice(database.db, m[1]!);
    return invoice !== undefined && canView(user, invoice.userId);
  };
}
