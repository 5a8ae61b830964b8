// The real-time outbox: a row per message, written in the state change's transaction.
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const realtimeMessages = pgTable(
  'realtime_messages',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    room: text('room').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('realtime_messages_room_idx').on(t.room, t.id),
    // Retention (prune.ts) deletes the oldest first.
    index('realtime_messages_created_idx').on(t.createdAt),
  ],
);
