// Reading a room's messages after a cursor: the hub's resume on join, and the polling fallback.
import { sql } from 'drizzle-orm';
import { sqlOnce } from '../db/built-once.ts';
import { rows, type Executor } from '../db/database.ts';
import { isValidCursor, type JsonValue, type RealtimeMessage } from './room.ts';

/** What a client that has seen everything up to `after` has missed. */
export interface RoomCatchUp {
  /** Missed messages, oldest first; at most `limit` of them (the most recent ones). */
  readonly messages: RealtimeMessage[];
  /** Resume from here next time: every message of the room up to this id is in `messages` or older. */
  readonly cursor: string;
  /** True when more than `limit` messages were missed: reload the state itself, then resume from `cursor`. */
  readonly gap: boolean;
}

/** Default and ceiling of messages replayed per read. */
export const REPLAY_LIMIT = 100;

// Every watcher's join reads it (sqlOnce: rendered once).
const roomHead = sqlOnce<{ head: string | null }>(
  () => sql`select max(id)::text as head from realtime_messages where room = ${sql.placeholder('room')}`,
);

/**
 * Messages of `room` with id > `after` (none when `after` is undefined: only the cursor), bounded.
 *
 * A page that renders state and then subscribes should read the cursor first (`after` undefined)
 * and the state second, then join with `after: cursor`: a change committed in between is replayed.
 * Ids are in commit order within a room (see publish), so reading the head first and then rows up to
 * it sees every message up to the head, whichever connection runs each statement.
 */
export async function readRoom(
  executor: Executor,
  room: string,
  after: string | undefined,
  limit: number = REPLAY_LIMIT,
): Promise<RoomCatchUp> {
  if (after !== undefined && !isValidCursor(after))
    throw new Error(`realtime: invalid cursor ${JSON.stringify(after)}`);
  const bound = Math.max(1, Math.min(limit, REPLAY_LIMIT * 10));
  const head = await roomHead(executor, { room });
  const cursor = head[0]?.head ?? '0';
  if (after === undefined || BigInt(after) >= BigInt(cursor)) return { messages: [], cursor, gap: false };
  const found = await rows<{ id: string; payload: JsonValue }>(
    executor,
    sql`
      select id::text as id, payload from realtime_messages
      where room = ${room} and id > ${after}::bigint and id <= ${cursor}::bigint
      order by id desc
      limit ${bound + 1}`,
  );
  const gap = found.length > bound;
  const messages = found
    .slice(0, bound)
    .reverse()
    .map((r) => ({ id: r.id, room, payload: r.payload }));
  return { messages, cursor, gap };
}

/** One message by id, for notifications too large to carry their payload. */
export async function readMessage(executor: Executor, id: string): Promise<RealtimeMessage | undefined> {
  const found = await rows<{ id: string; room: string; payload: JsonValue }>(
    executor,
    sql`select id::text as id, room, payload from realtime_messages where id = ${id}::bigint`,
  );
  return found[0];
}
