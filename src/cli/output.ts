// How a command speaks: human lines on stdout (or one JSON document with --json), progress on
// stderr only when it is a terminal and --json is off, errors on stderr.

export interface Output {
  readonly json: boolean;
  /** A line for a human (ignored with --json). */
  line(text: string): void;
  /** The one JSON document of a --json run (ignored without --json). */
  result(value: unknown): void;
  /** Progress of something slow: on a terminal it updates in place, otherwise nothing (it is not output). */
  progress(text: string): { done(final?: string): void };
}

/** The output of one run; `write`/`error` are the process's streams unless a test passes others. */
export function createOutput(
  json: boolean,
  streams: { out: NodeJS.WritableStream; err: NodeJS.WriteStream | NodeJS.WritableStream } = {
    out: process.stdout,
    err: process.stderr,
  },
): Output {
  const tty = !json && 'isTTY' in streams.err && streams.err.isTTY === true;
  return {
    json,
    line: (text) => {
      if (!json) streams.out.write(`${text}\n`);
    },
    result: (value) => {
      if (json) streams.out.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    progress(text) {
      if (!tty) return { done: () => undefined };
      const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
      const t0 = Date.now();
      let i = 0;
      const draw = () =>
        streams.err.write(
          `\r${frames[i++ % frames.length]} ${text} (${((Date.now() - t0) / 1000).toFixed(0)} s)\x1b[K`,
        );
      const timer = setInterval(draw, 100);
      return {
        done(final) {
          clearInterval(timer);
          streams.err.write(`\r\x1b[K${final ? `${final}\n` : ''}`);
        },
      };
    },
  };
}

/** Waits for `work` showing `text` as progress. */
export async function withProgress<T>(out: Output, text: string, work: () => Promise<T>): Promise<T> {
  const p = out.progress(text);
  try {
    return await work();
  } finally {
    p.done();
  }
}
