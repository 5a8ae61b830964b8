#!/usr/bin/env node
// The `countersign` bin (and `npm start`, which is `countersign start`). It runs the command line
// compiled, like the services it starts: scripts/load-compiled.mjs loads src/platform/compiled.ts
// (it decides where the compiled tree lives and builds it), then the compiled src/cli/main.js runs
// with plain Node — no tsx loader in the launcher. COUNTERSIGN_RUN_TS=1 runs the TypeScript through tsx.
import { pathToFileURL } from 'node:url';
import { loadCompiled } from '../scripts/load-compiled.mjs';

let main;
if (process.env.COUNTERSIGN_RUN_TS === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  main = new URL('../src/cli/main.ts', import.meta.url).href;
} else {
  const { runnable } = await loadCompiled();
  main = pathToFileURL((await runnable('cli/main.ts')).file).href;
}
const { runCli } = await import(main);
process.exitCode = await runCli(process.argv.slice(2));
