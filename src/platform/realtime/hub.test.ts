// The hub against a real database, a real HTTP server on a free port and real `ws` clients.
//
// Absence is asserted without sleeping: notifications arrive in commit order and the hub handles them
// in order, so once a message committed later has arrived, an earlier one that was going to arrive
// has arrived too.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import type { Database } from '../db/database.ts';
import { freshDatabase, testEngines } from '../db/testing.ts';
import { systemClock } from '../clock.ts';
import type { ServerFrame } from './protocol.ts';
import { publish } from './publish.ts';
import type { JsonValue } from './room.ts';
import {
  asUser,
  connectTestSocket,
  cookieOwnerAuthorize,
  platformSpec,
  startTestHub,
  type TestHub,
  type TestSocket,
} from './testing.ts';

let roomSeq = 0;
/** A room that user `owner` may join under cookieOwnerAuthorize. */
const roomOf = (owner: string) => `invoice:${owner}-${process.pid}-${++roomSeq}`;

const isMessage = (room: string, test?: (payload: JsonValue) => boolean) => (f: ServerFrame) =>
  f.type === 'message' && f.room === room && (test === undefined || test(f.payload));
const isJoined = (room: string) => (f: ServerFrame) => f.type === 'joined' && f.room === room;
const isError = (code: string) => (f: ServerFrame) => f.type === 'error' && f.code === code;
const messagesIn = (socket: TestSocket, room: string) =>
  socket.frames.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message' && f.room === room);

/** Retries an assertion about state another event loop turn updates (the server side of a close). */
async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const HOUR_MS = 3_600_000;

/**
 * Runs one beat and waits until the hub has read each socket's pong. ws sends a client's pong as it
 * receives the ping, before it emits 'ping'. The client then pings the hub itself: the hub reads one
 * socket's frames in order and answers that ping on its own, so the answer means our pong is in. (A
 * JSON frame would not do: any frame counts as a sign of life, pong or not.)
 */
async function beatAndPongs(beating: TestHub, sockets: readonly TestSocket[]): Promise<void> {
  const pinged = sockets.map((s) => once(s.ws, 'ping'));
  await beating.hub.beat();
  await Promise.all(pinged);
  await Promise.all(
    sockets.map((s) => {
      const answered = once(s.ws, 'pong');
      s.ws.ping();
      return answered;
    }),
  );
}

async function joined(
  socket: TestSocket,
  room: string,
  after?: string,
): Promise<Extract<ServerFrame, { type: 'joined' }>> {
  socket.send(after === undefined ? { type: 'join', room } : { type: 'join', room, after });
  const frame = await socket.next((f) => isJoined(room)(f) || (f.type === 'error' && f.room === room));
  assert.equal(frame.type, 'joined', `join of ${room} answered ${JSON.stringify(frame)}`);
  return frame as Extract<ServerFrame, { type: 'joined' }>;
}

for (const engine of testEngines()) {
  describe(`realtime hub on ${engine}`, () => {
    let database: Database;
    let hub: TestHub;
    const sockets: TestSocket[] = [];
    const connect = async (user: string) => {
      const socket = await hub.connect(asUser(user));
      sockets.push(socket);
      return socket;
    };
    const commit = (room: string, payload: JsonValue) =>
      database.transaction((tx) => publish(tx, room, payload, systemClock));

    before(async () => {
      database = await freshDatabase(platformSpec, engine);
      hub = await startTestHub(database, { authorize: cookieOwnerAuthorize });
    });
    after(async () => {
      await Promise.all(sockets.map((s) => s.close()));
      await hub.stop();
      await database.close();
    });

    test('a committed publish reaches a socket joined to its room, and not a socket joined to another room', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      const aliceRoom = roomOf('alice');
      const bobRoom = roomOf('bob');
      await joined(alice, aliceRoom);
      await joined(bob, bobRoom);

      const id = await commit(aliceRoom, { status: 'paid' });
      const frame = await alice.next(isMessage(aliceRoom));
      assert.deepEqual(frame, { type: 'message', room: aliceRoom, id, payload: { status: 'paid' } });

      await commit(bobRoom, { status: 'pending' });
      await bob.next(isMessage(bobRoom));
      assert.deepEqual(messagesIn(bob, aliceRoom), []);
      assert.deepEqual(messagesIn(alice, bobRoom), []);
    });

    test('a rolled-back transaction delivers nothing', async () => {
      const alice = await connect('alice');
      const room = roomOf('alice');
      await joined(alice, room);
      await assert.rejects(
        database.transaction(async (tx) => {
          await publish(tx, room, { status: 'paid' }, systemClock);
          throw new Error('the acknowledgement failed');
        }),
      );
      await commit(room, { status: 'expired' });
      await alice.next(isMessage(room, (p) => (p as { status: string }).status === 'expired'));
      assert.deepEqual(
        messagesIn(alice, room).map((m) => m.payload),
        [{ status: 'expired' }],
      );
    });

    test("a join the authorize callback refuses gets access.denied and none of that room's messages", async () => {
      const alice = await connect('alice');
      const mallory = await connect('mallory');
      const aliceRoom = roomOf('alice');
      const malloryRoom = roomOf('mallory');
      await joined(alice, aliceRoom);
      await joined(mallory, malloryRoom);

      mallory.send({ type: 'join', room: aliceRoom });
      const refusal = await mallory.next((f) => f.type === 'error' && f.room === aliceRoom);
      assert.equal(refusal.type === 'error' && refusal.code, 'access.denied');
      // A resume cannot be used to read a refused room's history either.
      mallory.send({ type: 'join', room: aliceRoom, after: '0' });
      await mallory.next(isError('access.denied'));

      await commit(aliceRoom, { status: 'paid' });
      await alice.next(isMessage(aliceRoom)); // positive control: the owner gets it
      await commit(malloryRoom, { status: 'pending' });
      await mallory.next(isMessage(malloryRoom));
      assert.deepEqual(messagesIn(mallory, aliceRoom), []);
      assert.equal(
        mallory.frames.some((f) => f.type === 'joined' && f.room === aliceRoom),
        false,
      );
    });

    test('a hub without an authorize callback refuses every join', async () => {
      const closedHub = await startTestHub(database, {});
      try {
        const socket = await closedHub.connect(asUser('alice'));
        const room = roomOf('alice');
        socket.send({ type: 'join', room });
        const frame = await socket.next((f) => f.type === 'error' || f.type === 'joined');
        assert.deepEqual(frame, { type: 'error', code: 'access.denied', room, message: 'You may not join this room.' });
        await commit(room, { status: 'paid' });
        assert.equal(closedHub.hub.stats().rooms, 0);
        await socket.close();
      } finally {
        await closedHub.stop();
      }
    });

    test('an authorize callback that throws refuses the join and the hub keeps serving', async () => {
      const flaky = await startTestHub(database, {
        authorize: (room, req) => {
          if (room.includes('boom')) throw new Error('session store down');
          return cookieOwnerAuthorize(room, req);
        },
      });
      try {
        const socket = await flaky.connect(asUser('alice'));
        socket.send({ type: 'join', room: `invoice:alice-boom-${++roomSeq}` });
        await socket.next(isError('access.denied'));
        const room = roomOf('alice');
        await joined(socket, room);
        await commit(room, { status: 'paid' });
        await socket.next(isMessage(room));
        await socket.close();
      } finally {
        await flaky.stop();
      }
    });

    test('a client resuming with after receives the messages it missed, in order, then live ones', async () => {
      const room = roomOf('alice');
      const first = await connect('alice');
      await joined(first, room);
      const seen = await commit(room, { step: 1 });
      await first.next(isMessage(room));
      await first.close();

      const missed = [await commit(room, { step: 2 }), await commit(room, { step: 3 })];
      await commit(roomOf('alice'), { step: 'another room' });

      const again = await connect('alice');
      again.send({ type: 'join', room, after: seen });
      const ack = await again.next(isJoined(room));
      assert.deepEqual(ack, { type: 'joined', room, cursor: missed[1] });
      assert.deepEqual(
        messagesIn(again, room).map((m) => [m.id, m.payload]),
        [
          [missed[0], { step: 2 }],
          [missed[1], { step: 3 }],
        ],
      );
      const live = await commit(room, { step: 4 });
      assert.equal((await again.next(isMessage(room, (p) => (p as { step: number }).step === 4))).type, 'message');
      assert.deepEqual(
        messagesIn(again, room).map((m) => m.id),
        [...missed, live],
      );
    });

    test('a join without after starts from now and its cursor resumes exactly there', async () => {
      const room = roomOf('alice');
      await commit(room, { step: 'before' });
      const socket = await connect('alice');
      const ack = await joined(socket, room);
      assert.deepEqual(messagesIn(socket, room), []);
      await socket.close();
      const missed = await commit(room, { step: 'while away' });
      const back = await connect('alice');
      await joined(back, room, ack.cursor);
      assert.deepEqual(
        messagesIn(back, room).map((m) => m.id),
        [missed],
      );
    });

    test('a resume that missed more than the replay limit is told there is a gap and gets the latest messages', async () => {
      const small = await startTestHub(database, { authorize: cookieOwnerAuthorize, limits: { replay: 3 } });
      try {
        const room = roomOf('alice');
        const ids: string[] = [];
        for (let step = 1; step <= 5; step++) ids.push(await commit(room, { step }));
        const socket = await small.connect(asUser('alice'));
        socket.send({ type: 'join', room, after: '0' });
        const ack = await socket.next(isJoined(room));
        assert.deepEqual(ack, { type: 'joined', room, cursor: ids[4], gap: true });
        assert.deepEqual(
          messagesIn(socket, room).map((m) => m.id),
          ids.slice(2),
        );
        await socket.close();
      } finally {
        await small.stop();
      }
    });

    test('a resuming client sees every message once and in order while publishes continue during its join', async () => {
      const room = roomOf('alice');
      const before = await commit(room, { n: 0 });
      const published: string[] = [];
      let startJoin!: () => void;
      const publishedSome = new Promise<void>((resolve) => (startJoin = resolve));
      // The publisher runs from before the join until ten messages after it is acknowledged, so the
      // join overlaps the publishing however fast either side is (a fixed count could end first).
      let publishedWhenJoined: number | undefined;
      const publisher = (async () => {
        for (let n = 1; publishedWhenJoined === undefined || published.length < publishedWhenJoined + 10; n++) {
          if (n > 5000) throw new Error('the join was not acknowledged within 5000 messages');
          published.push(await commit(room, { n }));
          if (n === 3) startJoin();
          // PGlite answers without yielding to the event loop: let the sockets and the hub run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await publishedSome;
      const socket = await connect('alice');
      await joined(socket, room, before);
      publishedWhenJoined = published.length;
      await publisher;
      const last = published.at(-1)!;
      await socket.next((f) => f.type === 'message' && f.id === last);
      assert.deepEqual(
        messagesIn(socket, room).map((m) => m.id),
        published,
      );
    });

    test('a message too large for NOTIFY is fetched and delivered whole', async () => {
      const socket = await connect('alice');
      const room = roomOf('alice');
      await joined(socket, room);
      const lines = Array.from({ length: 200 }, (_, i) => ({
        sku: `prd_${i}`,
        name: 'A rather long product name '.repeat(2),
      }));
      const id = await commit(room, { lines });
      const frame = await socket.next(isMessage(room));
      assert.deepEqual(frame, { type: 'message', room, id, payload: { lines } });
      assert.ok(JSON.stringify(lines).length > 8000);
    });

    test('leave stops delivery of that room', async () => {
      const socket = await connect('alice');
      const kept = roomOf('alice');
      const left = roomOf('alice');
      await joined(socket, kept);
      await joined(socket, left);
      socket.send({ type: 'leave', room: left });
      await socket.next((f) => f.type === 'left' && f.room === left);
      await commit(left, { status: 'paid' });
      await commit(kept, { status: 'paid' });
      await socket.next(isMessage(kept));
      assert.deepEqual(messagesIn(socket, left), []);
    });

    test('malformed frames are answered with an error frame and the hub keeps serving the socket', async () => {
      const socket = await connect('alice');
      const malformed: (string | Buffer)[] = [
        'not json',
        '[]',
        'null',
        '42',
        '{"type":"dance","room":"invoice:alice-1"}',
        '{"type":"join"}',
        '{"type":"join","room":123}',
        '{"type":"join","room":"invoice:alice-1","after":"abc"}',
        '{"type":"join","room":"invoice:alice-1","after":"99999999999999999999"}',
        '{"type":"join","room":"invoice:alice-1","after":12}',
        '{"__proto__":{"type":"join"},"room":"invoice:alice-1"}',
        Buffer.from([1, 2, 3]),
      ];
      for (const frame of malformed) socket.ws.send(frame);
      for (let i = 0; i < malformed.length; i++) await socket.next(isError('frame.invalid'));
      socket.send({ type: 'join', room: 'invoice with spaces' });
      await socket.next(isError('room.invalid'));

      const room = roomOf('alice');
      await joined(socket, room);
      socket.send({ type: 'join', room });
      await socket.next(isError('room.already_joined'));
      await commit(room, { status: 'paid' });
      await socket.next(isMessage(room));
    });

    test('a frame over the size limit closes only that socket', async () => {
      const rude = await connect('alice');
      rude.ws.send(JSON.stringify({ type: 'join', room: roomOf('alice'), padding: 'x'.repeat(10_000) }));
      assert.equal(await rude.closed, 1009);
      const polite = await connect('alice');
      const room = roomOf('alice');
      await joined(polite, room);
      await commit(room, { status: 'paid' });
      await polite.next(isMessage(room));
    });

    test('a socket may not hold more rooms than the limit', async () => {
      const limited = await startTestHub(database, { authorize: cookieOwnerAuthorize, limits: { roomsPerSocket: 2 } });
      try {
        const socket = await limited.connect(asUser('alice'));
        await joined(socket, roomOf('alice'));
        const second = roomOf('alice');
        await joined(socket, second);
        const third = roomOf('alice');
        socket.send({ type: 'join', room: third });
        assert.deepEqual(await socket.next((f) => f.type === 'error'), {
          type: 'error',
          code: 'room.limit',
          room: third,
          message: 'A socket may join at most 2 rooms.',
        });
        socket.send({ type: 'leave', room: second });
        await joined(socket, third);
        assert.deepEqual(limited.hub.stats(), { sockets: 1, rooms: 2 });
        await socket.close();
      } finally {
        await limited.stop();
      }
    });

    test('a socket that stops answering pings is dropped', async () => {
      // The beats run on demand (the interval is an hour away), and the second runs only once the hub
      // has the healthy socket's pong: no verdict depends on how fast a loaded machine answers a ping.
      const beating = await startTestHub(database, { authorize: cookieOwnerAuthorize, heartbeatMs: HOUR_MS });
      try {
        const healthy = await beating.connect(asUser('alice'));
        const dead = await beating.connect({ ...asUser('alice'), autoPong: false });
        await joined(dead, roomOf('alice'));
        await beatAndPongs(beating, [healthy]);
        assert.equal(dead.ws.readyState, WebSocket.OPEN, 'a ping not yet answered does not drop a socket');
        await beating.hub.beat();
        assert.equal(await dead.closed, 1006);
        assert.equal(healthy.ws.readyState, WebSocket.OPEN);
        await eventually(() => assert.deepEqual(beating.hub.stats(), { sockets: 1, rooms: 0 }));
        await healthy.close();
      } finally {
        await beating.stop();
      }
    });

    test('the heartbeat runs on its own every heartbeatMs', async () => {
      // Only that a silent socket goes without a beat run by hand; which beat drops it is the test above's.
      const beating = await startTestHub(database, { authorize: cookieOwnerAuthorize, heartbeatMs: 200 });
      try {
        const dead = await beating.connect({ ...asUser('alice'), autoPong: false });
        assert.equal(await dead.closed, 1006);
      } finally {
        await beating.stop();
      }
    });

    test('the heartbeat reaches every socket when they are more than one ping batch', { timeout: 60_000 }, async () => {
      // The beat pings 250 sockets at a time and lets the loop run between batches; a socket past the
      // first batches must still be checked, and none of the healthy ones dropped.
      const beating = await startTestHub(database, { authorize: cookieOwnerAuthorize, heartbeatMs: HOUR_MS });
      const healthy: TestSocket[] = [];
      try {
        for (let i = 0; i < 520; i += 40)
          healthy.push(...(await Promise.all(Array.from({ length: 40 }, () => beating.connect(asUser('alice'))))));
        const dead = await beating.connect({ ...asUser('alice'), autoPong: false });
        await beatAndPongs(beating, healthy);
        await beating.hub.beat();
        assert.equal(await dead.closed, 1006);
        assert.deepEqual(
          healthy.filter((s) => s.ws.readyState !== WebSocket.OPEN).length,
          0,
          'a healthy socket was dropped',
        );
        assert.equal(beating.hub.stats().sockets, healthy.length);
      } finally {
        await Promise.all(healthy.map((s) => s.close()));
        await beating.stop();
      }
    });

    test('upgrades on other paths, before start and from an unlisted origin are refused', async () => {
      const base = hub.url.replace(/\/ws$/, '');
      await assert.rejects(connectTestSocket(`${base}/elsewhere`), /upgrade refused: 404/);

      const guarded = await startTestHub(database, {
        authorize: cookieOwnerAuthorize,
        allowedOrigins: ['https://shop.example'],
      });
      try {
        await assert.rejects(
          connectTestSocket(guarded.url, { origin: 'https://evil.example' }),
          /upgrade refused: 403/,
        );
        await assert.rejects(connectTestSocket(guarded.url), /upgrade refused: 403/);
        const ok = await connectTestSocket(guarded.url, { origin: 'https://shop.example' });
        await ok.close();
      } finally {
        await guarded.stop();
      }

      const { createHub } = await import('./hub.ts');
      const { createServer } = await import('node:http');
      const server = createServer((_req, res) => res.end('plain http'));
      const idle = createHub({ database, authorize: () => true });
      idle.attach(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as { port: number };
        await assert.rejects(connectTestSocket(`ws://127.0.0.1:${port}/ws`), /upgrade refused: 503/);
        // Plain HTTP on the same server is untouched by the hub.
        const status = await new Promise<number>((resolve, reject) => {
          request({ port, host: '127.0.0.1', path: '/ws' }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
        assert.equal(status, 200);
      } finally {
        await idle.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test('stop closes every socket with 1001 and stats count sockets and rooms', async () => {
      const stopping = await startTestHub(database, { authorize: cookieOwnerAuthorize });
      const one = await stopping.connect(asUser('alice'));
      const two = await stopping.connect(asUser('bob'));
      const shared = roomOf('alice');
      await joined(one, shared);
      await joined(one, roomOf('alice'));
      await joined(two, roomOf('bob'));
      assert.deepEqual(stopping.hub.stats(), { sockets: 2, rooms: 3 });
      await stopping.stop();
      assert.deepEqual(await Promise.all([one.closed, two.closed]), [1001, 1001]);
      assert.deepEqual(stopping.hub.stats(), { sockets: 0, rooms: 0 });
    });
  });
}
