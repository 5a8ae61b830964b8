// A node:test reporter that writes, per test file, the time its top-level tests took: one line
// `<ms>\t<file>` each. scripts/test.mjs prints the slowest, the files to look at first when `npm test`
// grows past its budget. A file's process start (tsx loading it) is not counted.
export default async function* fileTimes(source) {
  const perFile = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const { file, details } = event.data;
      perFile.set(file, (perFile.get(file) ?? 0) + (details?.duration_ms ?? 0));
    }
  }
  for (const [file, ms] of perFile) yield `${Math.round(ms)}\t${file}\n`;
}
