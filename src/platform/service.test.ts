import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { freshDatabase } from './db/testing.ts';
import { createLogger } from './log.ts';
import { createHub } from './realtime/index.ts';
import { connectTestSocket, socketUrl } from './realtime/testing.ts';
import { bootService, parseServiceBase } from './service.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)) };

describe('a booted service', () => {
  const opened: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of opened) await close().catch(() => undefined);
  });

  it('stops promptly and closes its database while a browser still holds a WebSocket', async () => {
    const database = await freshDatabase(spec, 'pglite');
    opened.push(() => database.close());
    let listening: Server | undefined;
    const hub = createHub({ database, authorize: () => true });
    const service = await bootService({
      name: 'test',
      spec,
      base: parseServiceBase('test', 0, { TEST_PORT: '0' }),
      database,
      log: createLogger('test', 'silent'),
      compose: () => ({
        onListening: async (server) => {
          listening = server;
          hub.attach(server);
          await hub.start();
        },
        onStop: () => hub.stop(),
      }),
    });
    const socket = await connectTestSocket(socketUrl(listening!));
    socket.send({ type: 'join', room: 'invoice:inv_1' });
    await socket.next((f) => f.type === 'joined');
    const stopped = service.stop().then(() => 'stopped');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('hung'), 8000).unref());
    assert.equal(await Promise.race([stopped, timeout]), 'stopped');
    assert.equal(await socket.closed, 1001);
    assert.equal(await database.ready(), false, 'the database is closed after stop');
  });
});
