// Across nodes: PostgreSQL LISTEN/NOTIFY carries a message committed by one process to the hub of
// another, and the hub survives losing its LISTEN connection without losing messages.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDatabase, rows, type Database } from '../db/database.ts';
import { databaseUrl, freshPostgresDatabaseName } from '../db/testing.ts';
import { systemClock } from '../clock.ts';
import type { ServerFrame } from './protocol.ts';
import { publish } from './publish.ts';
import { asUser, cookieOwnerAuthorize, platformSpec, startTestHub, type TestHub } from './testing.ts';
import { projectRoot } from '../project-root.ts';

const repoRoot = projectRoot();
const fixture = join(repoRoot, 'src/platform/realtime/fixtures/publish-from-another-process.ts');

/** Runs the fixture in a child node process; resolves with what it printed. */
function publishFromAnotherProcess(
  url: string,
  room: string,
): Promise<{ id: string; commitRequestedAt: number; committedAt: number; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      cwd: repoRoot,
      env: { ...process.env, COUNTERSIGN_FIXTURE_DATABASE_URL: url, COUNTERSIGN_FIXTURE_ROOM: room },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`fixture exited ${code}: ${err}`));
      resolve({
        ...(JSON.parse(out) as { id: string; commitRequestedAt: number; committedAt: number }),
        pid: child.pid ?? 0,
      });
    });
  });
}

const isMessage = (room: string) => (f: ServerFrame) => f.type === 'message' && f.room === room;

describe('realtime across processes on postgres', () => {
  let url: string;
  let database: Database;
  let node: TestHub;

  before(async () => {
    url = databaseUrl(await freshPostgresDatabaseName(platformSpec));
    database = await openDatabase(platformSpec, { engine: 'postgres', url });
    // A lost LISTEN is noticed within a check or two; the pings keep their default 30 s, so a stall of
    // this process cannot drop a healthy socket.
    node = await startTestHub(database, { authorize: cookieOwnerAuthorize, listenerCheckMs: 1000 });
  });
  after(async () => {
    await node.stop();
    await database.close();
  });

  test('Done when: a publish committed by another process on PostgreSQL reaches a socket held by this process', async (t) => {
    const room = `invoice:alice-cross-${process.pid}`;
    const socket = await node.connect(asUser('alice'));
    socket.send({ type: 'join', room });
    await socket.next((f) => f.type === 'joined' && f.room === room);
    const arrival = socket.next(isMessage(room), 30_000).then((frame) => ({ frame, at: Date.now() }));

    const committed = await publishFromAnotherProcess(url, room);
    const { frame, at } = await arrival;

    assert.notEqual(committed.pid, process.pid);
    assert.deepEqual(frame, {
      type: 'message',
      room,
      id: committed.id,
      payload: { status: 'paid', from: `pid ${committed.pid}` },
    });
    // A diagnostic, not an assertion: from COMMIT sent in one process to the frame in this one's
    // client (wall clock, ms). The frame may arrive before the publisher even reads COMMIT's answer.
    t.diagnostic(
      `commit-to-message latency across processes: ${at - committed.commitRequestedAt} ms after COMMIT was sent ` +
        `(${at - committed.committedAt} ms after the publisher saw it acknowledged)`,
    );
    await socket.close();
  });

  test('when the LISTEN connection is lost the hub listens again and sockets resume without missing a message', async () => {
    const room = `invoice:alice-relisten-${process.pid}`;
    const socket = await node.connect(asUser('alice'));
    socket.send({ type: 'join', room });
    const ack = await socket.next((f) => f.type === 'joined' && f.room === room);
    assert.equal(ack.type, 'joined');
    const cursor = ack.type === 'joined' ? ack.cursor : '';

    const killed = await rows<{ pid: number }>(
      database.db,
      sql`select pid, pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen %'`,
    );
    assert.equal(killed.length, 1, 'exactly the hub listener is terminated');
    const missed = await database.transaction((tx) => publish(tx, room, { status: 'paid' }, systemClock));

    assert.equal(await socket.closed, 1012);
    const again = await node.connect(asUser('alice'));
    again.send({ type: 'join', room, after: cursor });
    assert.deepEqual(await again.next(isMessage(room)), {
      type: 'message',
      room,
      id: missed,
      payload: { status: 'paid' },
    });
    await again.next((f) => f.type === 'joined' && f.room === room);
    const live = await database.transaction((tx) => publish(tx, room, { status: 'refunded' }, systemClock));
    assert.deepEqual(await again.next(isMessage(room)), {
      type: 'message',
      room,
      id: live,
      payload: { status: 'refunded' },
    });
    await again.close();
  });
});
