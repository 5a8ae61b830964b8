// The watcher process (forked by Watchers in bench/push-watchers.ts): holds its share of the watcher
// sockets, so that their frames are stamped on arrival by an event loop that does nothing else.
import { SocketWatchers, type Placement, type WatcherCustomer } from './push.ts';

type Command =
  | {
      type: 'open';
      shops: string[];
      customers: WatcherCustomer[];
      placements: Placement[];
      fanout: number;
    }
  | { type: 'watch'; seq: number; customer: number; invoiceId: string }
  | { type: 'record'; on: boolean }
  | { type: 'stats' };

let watchers: SocketWatchers | undefined;
const reply = (m: unknown) => process.send!(m);

process.on('message', (raw) => {
  const m = raw as Command;
  if (m.type === 'open') {
    SocketWatchers.open(m.shops, m.customers, m.placements, m.fanout).then(
      (w) => {
        watchers = w;
        reply({ type: 'opened', size: w.size });
      },
      (err: unknown) => reply({ type: 'failed', error: err instanceof Error ? err.message : String(err) }),
    );
  } else if (m.type === 'watch') {
    watchers!.watch(m.customer, m.invoiceId).then(
      () => reply({ type: 'watched', seq: m.seq }),
      (err: unknown) => reply({ type: 'watched', seq: m.seq, error: err instanceof Error ? err.message : String(err) }),
    );
  } else if (m.type === 'record') {
    if (watchers) watchers.recording = m.on;
  } else if (m.type === 'stats') {
    reply({ type: 'stats', stats: watchers!.stats() });
  }
});
// The bench process gone (even killed): nothing left to watch for.
process.on('disconnect', () => {
  watchers?.close();
  process.exit(0);
});
