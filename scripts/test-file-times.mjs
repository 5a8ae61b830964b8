// node:test's TAP reporter that also notes, per test file, the time its top-level tests took.
// scripts/test.mjs uses it in place of the plain TAP reporter (a third reporter would trip Node's
// MaxListenersExceededWarning on the runner's stream) and prints the slowest files from it: the files
// to look at first when `npm test` grows past its budget. The times go to the file named by
// COUNTERSIGN_TEST_FILE_TIMES, one `<ms>\t<file>` line each; a file's process start is not counted.
import { writeFileSync } from 'node:fs';
import { tap } from 'node:test/reporters';

export default async function* tapWithFileTimes(source) {
  const perFile = new Map();
  async function* noting() {
    for await (const event of source) {
      const { type, data } = event;
      if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && data.file) {
        perFile.set(data.file, (perFile.get(data.file) ?? 0) + (data.details?.duration_ms ?? 0));
      }
      yield event;
    }
  }
  yield* tap(noting());
  const out = process.env.COUNTERSIGN_TEST_FILE_TIMES;
  if (out) writeFileSync(out, [...perFile].map(([file, ms]) => `${Math.round(ms)}\t${file}\n`).join(''));
}
