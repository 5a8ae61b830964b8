// The customer's refund notifications, shown on the order page (an async component: it reads them itself).
import type { FC } from 'hono/jsx';
import type { Executor } from '../../platform/db/database.ts';
import { formatWhen } from './format.ts';
import { Notice } from './layout.tsx';
import { notificationsFor } from '../storage/refunds.ts';

/** Lists what the shop told the order's owner about its refunds (nothing when there is nothing). */
export const RefundNotices: FC<{ db: Executor; userId: string; orderId: string }> = async ({ db, userId, orderId }) => {
  const notes = await notificationsFor(db, userId, orderId);
  if (notes.length === 0) return null;
  return (
    <div data-testid="order-notifications">
      {notes.map((n) => (
        <Notice kind="ok">
          <span data-testid="order-notification">{n.message}</span> <small>{formatWhen(n.createdAt)}</small>
        </Notice>
      ))}
    </div>
  );
};
