// Publishing a real-time message: called inside the state change's transaction, so that the message
// exists exactly when the change does. NOTIFY is queued by PostgreSQL (and PGlite) until commit and
// dropped on rollback: a rolled-back change publishes nothing, a committed one reaches every node.
import { sql } from 'drizzle-orm';
import { sqlOnce } from '../db/built-once.ts';
import type { Executor } from '../db/database.ts';
import type { Clock } from '../clock.ts';
import { isValidRoom, MAX_PAYLOAD_BYTES, NOTIFY_INLINE_LIMIT_BYTES, REALTIME_CHANNEL, type JsonValue } from './room.ts';

// One statement, so that it holds on an executor in autocommit too: the insert reads from the lock's
// row, so the lock is taken before nextval() draws the id. Rendered once (sqlOnce): every state change
// a customer watches publishes.
const publishStatement = sqlOnce<{ id: string }>(() => {
  const v = (name: string) => sql.placeholder(name);
  return sql`
      with room_lock as (
        select pg_advisory_xact_lock(hashtextextended(${v('lockKey')}, 0))
      ), message as (
        insert into realtime_messages (room, payload, created_at)
        select ${v('room')}, ${v('body')}::jsonb, ${v('now')}::timestamptz from room_lock
        returning id, room, payload
      ), notification as (
        select id,
               json_build_object('id', id::text, 'room', room, 'payload', payload)::text as inline_body,
               json_build_object('id', id::text, 'room', room)::text as reference_body
        from message
      )
      select id::text as id,
             pg_notify(${REALTIME_CHANNEL},
                       case when octet_length(inline_body) <= ${NOTIFY_INLINE_LIMIT_BYTES} then inline_body
                            else reference_body end) as notified
      from notification`;
});

/**
 * Records a message for `room` and notifies every hub after commit; returns the message id.
 *
 * Within one room, ids are in commit order: a transaction-scoped advisory lock on the room is taken
 * before the id is drawn and held until commit, so a later id never becomes visible before an
 * earlier one. That is what lets a client resume "after id N" without missing anything. Publish
 * late in the transaction (the lock serialises publishers of the same room until they commit), and
 * when one transaction publishes to several rooms, do it in a fixed order (e.g. sorted) so that two
 * transactions never wait on each other's rooms.
 */
export async function publish(executor: Executor, room: string, payload: JsonValue, clock: Clock): Promise<string> {
  if (!isValidRoom(room)) throw new Error(`realtime: invalid room name ${JSON.stringify(room)}`);
  const body = JSON.stringify(payload);
  if (body === undefined) throw new Error('realtime: the payload is not JSON');
  if (Buffer.byteLength(body) > MAX_PAYLOAD_BYTES) {
    throw new Error(`realtime: payload for ${room} exceeds ${MAX_PAYLOAD_BYTES} bytes`);
  }
  const result = await publishStatement(executor, {
    lockKey: `countersign:realtime:${room}`,
    room,
    body,
    now: clock.now().toISOString(),
  });
  const id = result[0]?.id;
  if (id === undefined) throw new Error('realtime: publish inserted no message');
  return id;
}
