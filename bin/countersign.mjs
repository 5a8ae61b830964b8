#!/usr/bin/env node
// The `countersign` bin (and `npm start`, which is `countersign start`). It runs the command line
// compiled, like the services it starts: src/platform/compiled.ts is transpiled on its own first (with its one local import) (it
// decides where the compiled tree lives and builds it), then the compiled src/cli/main.js runs with
// plain Node — no tsx loader in the launcher. COUNTERSIGN_RUN_TS=1 runs the TypeScript through tsx.
import { renameSync } from 'node:fs';
import { build, stop } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let main;
if (process.env.COUNTERSIGN_RUN_TS === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  main = new URL('../src/cli/main.ts', import.meta.url).href;
} else {
  // Written beside and renamed into place: commands started at once must not read a half-written file.
  const bootstrap = `${root}.build/bootstrap/compiled.mjs`;
  const scratch = `${bootstrap}.${process.pid}`;
  await build({
    entryPoints: [`${root}src/platform/compiled.ts`],
    outfile: scratch,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  renameSync(scratch, bootstrap);
  await stop();
  const { runnable } = await import(pathToFileURL(bootstrap).href);
  main = pathToFileURL((await runnable('cli/main.ts')).file).href;
}
const { runCli } = await import(main);
process.exitCode = await runCli(process.argv.slice(2));
