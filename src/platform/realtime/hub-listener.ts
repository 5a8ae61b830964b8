// The hub's LISTEN on `countersign_realtime`: committed messages from any node, handled one after
// another (a message whose payload must be fetched does not let a later one overtake it), and the
// listener's health check.
//
// Listener health: on each heartbeat the hub NOTIFYs itself a probe; a probe that has not come back
// by the next heartbeat means the LISTEN connection is gone (database restart, network). The hub
// listens again, then closes its sockets with 1012 so that clients reconnect and resume from their
// cursors: what was committed while nobody listened is replayed, not lost.
import { sql } from 'drizzle-orm';
import type { Database, Unlisten } from '../db/database.ts';
import { readMessage } from './read-room.ts';
import { isValidCursor, isValidRoom, REALTIME_CHANNEL, type JsonValue, type RealtimeMessage } from './room.ts';
import type { HubLog } from './hub.ts';

export interface HubListenerDeps {
  readonly database: Database;
  readonly log: HubLog;
  /** Tells this hub's probes from other nodes'. */
  readonly hubId: string;
  readonly isRunning: () => boolean;
  /** Whether a room has subscribers on this node (others' messages are ignored). */
  readonly watches: (room: string) => boolean;
  readonly deliver: (message: RealtimeMessage) => void;
  /** Called after listening again: the hub closes its sockets so that clients resume. */
  readonly afterRelisten: () => void;
}

export interface HubListener {
  /** Starts listening; resolves false (nothing left listening) when `wanted()` turned false meanwhile. */
  start(wanted: () => boolean): Promise<boolean>;
  /** The hub's periodic check (listenerCheckMs): listens again if the last probe never came back, then sends a new one. */
  check(): Promise<void>;
  /** Whether a LISTEN is in place (upgrades are refused without one). */
  listening(): boolean;
  /** Stops listening and waits for the messages already queued. */
  stop(): Promise<void>;
}

/** Creates the hub's listener; nothing listens until start(). */
export function createHubListener(deps: HubListenerDeps): HubListener {
  const { database, log } = deps;
  let unlisten: Unlisten | undefined;
  let queue: Promise<void> = Promise.resolve();
  let probeSeq = 0;
  let probePending: string | undefined;
  let checking = false;

  function onNotification(raw: string): void {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      log.warn({ raw: raw.slice(0, 200) }, 'realtime: ignoring a notification that is not JSON');
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const note = value as Record<string, unknown>;
    if (typeof note.probe === 'string') {
      // Answered at once, not behind queued messages: a slow fetch is not a dead listener.
      if (note.probe === probePending) probePending = undefined;
      return;
    }
    const { id, room } = note;
    if (!isValidCursor(id) || !isValidRoom(room)) {
      log.warn({ raw: raw.slice(0, 200) }, 'realtime: ignoring a malformed notification');
      return;
    }
    if (!deps.watches(room)) return; // nobody on this node watches that room
    const inline = Object.hasOwn(note, 'payload');
    queue = queue
      .then(async () => {
        const message = inline ? { id, room, payload: note.payload as JsonValue } : await readMessage(database.db, id);
        if (message) deps.deliver(message);
      })
      .catch((err: unknown) => log.warn({ err, id, room }, 'realtime: could not deliver a message'));
  }

  async function relisten(): Promise<void> {
    const previous = unlisten;
    unlisten = undefined;
    await previous?.().catch(() => undefined);
    try {
      const next = await database.listen(REALTIME_CHANNEL, onNotification);
      if (deps.isRunning()) unlisten = next;
      else await next();
    } catch (err) {
      log.warn({ err }, 'realtime: could not listen again; refusing upgrades until the next heartbeat');
    }
    probePending = undefined;
    // Listening again first, closing second: a client that reconnects at once misses nothing.
    deps.afterRelisten();
  }

  return {
    async start(wanted) {
      const off = await database.listen(REALTIME_CHANNEL, onNotification);
      if (!wanted()) {
        await off(); // stopped while we were connecting
        return false;
      }
      unlisten = off;
      return true;
    },

    async check() {
      if (checking || !deps.isRunning()) return;
      checking = true;
      try {
        if (probePending !== undefined) {
          log.warn({ probe: probePending }, 'realtime: notifications stopped arriving; listening again');
          await relisten();
        }
        if (!deps.isRunning()) return;
        const token = `${deps.hubId}:${++probeSeq}`;
        probePending = token;
        try {
          await database.db.execute(sql`select pg_notify(${REALTIME_CHANNEL}, ${JSON.stringify({ probe: token })})`);
        } catch (err) {
          // The database is unreachable: nothing to conclude about the listener until it is back.
          probePending = undefined;
          log.warn({ err }, 'realtime: could not send the listener probe');
        }
      } finally {
        checking = false;
      }
    },

    listening: () => unlisten !== undefined,

    async stop() {
      const off = unlisten;
      unlisten = undefined;
      await off?.().catch(() => undefined);
      await queue;
    },
  };
}
