// The real-time outbox on both engines: what publish stores, what a resume reads, what pruning keeps.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { rows, type Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { fakeClock, systemClock } from '../clock.ts';
import { publish } from './publish.ts';
import { readRoom } from './read-room.ts';
import { pruneRealtimeMessages } from './prune.ts';
import { platformSpec } from './testing.ts';

let roomSeq = 0;
const freshRoom = (kind = 'invoice') => `${kind}:inv_${process.pid}_${++roomSeq}`;

async function messagesOf(database: Database, room: string): Promise<{ id: string; payload: unknown }[]> {
  return rows(database.db, sql`select id::text as id, payload from realtime_messages where room = ${room} order by id`);
}

for (const engine of testEngines()) {
  describe(`realtime outbox on ${engine}`, () => {
    let database: Database;
    before(async () => {
      database = await freshDatabase(platformSpec, engine);
    });
    after(async () => {
      await database.close();
    });

    test('a publish inside a committed transaction stores the message; a rolled-back one leaves nothing', async () => {
      const room = freshRoom();
      const id = await database.transaction((tx) => publish(tx, room, { status: 'paid', amount: '1250' }, systemClock));
      await assert.rejects(
        database.transaction(async (tx) => {
          await publish(tx, room, { status: 'expired' }, systemClock);
          throw new Error('the state change failed');
        }),
        /the state change failed/,
      );
      assert.deepEqual(await messagesOf(database, room), [{ id, payload: { status: 'paid', amount: '1250' } }]);
    });

    test('publish refuses a malformed room name and an oversized payload, failing the transaction', async () => {
      await assert.rejects(publish(database.db, 'invoice inv 1', {}, systemClock), /invalid room/);
      await assert.rejects(publish(database.db, '', {}, systemClock), /invalid room/);
      await assert.rejects(publish(database.db, freshRoom(), { blob: 'x'.repeat(70_000) }, systemClock), /exceeds/);
    });

    test('readRoom without a cursor gives only the room head as cursor, "0" for an empty room', async () => {
      const room = freshRoom();
      assert.deepEqual(await readRoom(database.db, room, undefined), { messages: [], cursor: '0', gap: false });
      await publish(database.db, room, { n: 1 }, systemClock);
      const last = await publish(database.db, room, { n: 2 }, systemClock);
      await publish(database.db, freshRoom(), { other: true }, systemClock);
      assert.deepEqual(await readRoom(database.db, room, undefined), { messages: [], cursor: last, gap: false });
    });

    test('readRoom replays only the messages of that room after the cursor, oldest first', async () => {
      const room = freshRoom();
      const seen = await publish(database.db, room, { n: 1 }, systemClock);
      const other = freshRoom();
      await publish(database.db, other, { n: 'other' }, systemClock);
      const second = await publish(database.db, room, { n: 2 }, systemClock);
      const third = await publish(database.db, room, { n: 3 }, systemClock);
      const catchUp = await readRoom(database.db, room, seen);
      assert.deepEqual(catchUp, {
        messages: [
          { id: second, room, payload: { n: 2 } },
          { id: third, room, payload: { n: 3 } },
        ],
        cursor: third,
        gap: false,
      });
      assert.deepEqual(await readRoom(database.db, room, third), { messages: [], cursor: third, gap: false });
    });

    test('readRoom reports a gap and keeps the most recent messages when more than the limit were missed', async () => {
      const room = freshRoom();
      const ids: string[] = [];
      for (let n = 1; n <= 7; n++) ids.push(await publish(database.db, room, { n }, systemClock));
      const catchUp = await readRoom(database.db, room, '0', 5);
      assert.equal(catchUp.gap, true);
      assert.equal(catchUp.cursor, ids[6]);
      assert.deepEqual(
        catchUp.messages.map((m) => m.payload),
        [3, 4, 5, 6, 7].map((n) => ({ n })),
      );
      const exact = await readRoom(database.db, room, ids[1], 5);
      assert.equal(exact.gap, false);
      assert.equal(exact.messages.length, 5);
    });

    test('pruneRealtimeMessages deletes only messages created before the horizon', async () => {
      const clock = fakeClock(Date.UTC(2020, 0, 1));
      const room = freshRoom();
      await publish(database.db, room, { age: 'old' }, clock);
      clock.advance(60 * 60 * 1000);
      const recent = await publish(database.db, room, { age: 'recent' }, clock);
      const deleted = await pruneRealtimeMessages(database.db, new Date(Date.UTC(2020, 0, 1, 0, 30)));
      assert.equal(deleted, 1);
      assert.deepEqual(await messagesOf(database, room), [{ id: recent, payload: { age: 'recent' } }]);
      // Other rooms' messages published with the real clock are far newer than the horizon.
      const survivors = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from realtime_messages`);
      assert.ok(Number(survivors[0]?.n) > 1);
    });

    test('a room pruned empty still serves a fresh reader and a resumer; a backlog goes in batches', async () => {
      const clock = fakeClock(Date.UTC(2019, 0, 1));
      const room = freshRoom();
      for (let n = 0; n < 25; n++) await publish(database.db, room, { n }, clock);
      const before = await readRoom(database.db, room, undefined);
      clock.advance(2 * 86_400_000);
      const deleted = await pruneRealtimeMessages(database.db, new Date(Date.UTC(2019, 0, 2)), 10);
      assert.equal(deleted, 25, 'batches of 10: 10 + 10 + 5');
      assert.deepEqual(await messagesOf(database, room), []);
      // A fresh reader: the cursor of an empty room, then the next message is read after it.
      const fresh = await readRoom(database.db, room, undefined);
      assert.deepEqual([fresh.messages, fresh.gap], [[], false]);
      const next = await publish(database.db, room, { n: 'after the prune' }, clock);
      const seen = await readRoom(database.db, room, fresh.cursor);
      assert.deepEqual(
        seen.messages.map((m) => [m.id, m.payload]),
        [[next, { n: 'after the prune' }]],
      );
      // A resumer whose cursor predates the prune gets the new message, nothing pruned, no gap.
      const resumed = await readRoom(database.db, room, before.cursor);
      assert.deepEqual(
        resumed.messages.map((m) => m.payload),
        [{ n: 'after the prune' }],
      );
      assert.equal(resumed.cursor, next);
    });

    if (engine === 'postgres') {
      test('within a room ids follow commit order: a concurrent publisher waits until the earlier one commits', async () => {
        const room = freshRoom();
        const events: string[] = [];
        let releaseFirst!: () => void;
        const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
        let firstPublished!: () => void;
        const firstHasPublished = new Promise<void>((resolve) => (firstPublished = resolve));

        const first = database.transaction(async (tx) => {
          const id = await publish(tx, room, { n: 'first' }, systemClock);
          firstPublished();
          await firstMayCommit;
          return id;
        });
        await firstHasPublished;
        const second = database.transaction(async (tx) => {
          const id = await publish(tx, room, { n: 'second' }, systemClock);
          events.push('second published');
          return id;
        });
        // Another room is not held up by the first transaction.
        await publish(database.db, freshRoom(), { unrelated: true }, systemClock);
        await new Promise((resolve) => setTimeout(resolve, 200));
        events.push('first released');
        releaseFirst();
        const [firstId, secondId] = await Promise.all([first, second]);
        assert.deepEqual(events, ['first released', 'second published']);
        assert.ok(BigInt(secondId) > BigInt(firstId));
      });
    }
  });
}
