// src/platform/compiled.ts (it decides where compiled trees live and builds them), loaded by plain
// Node: transpiled on its own first, with its one local import, into .build/bootstrap/. The
// `countersign` bin and `npm test` use it, so that neither needs the tsx loader to start.
import { renameSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, stop } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The module src/platform/compiled.ts, compiled. */
export async function loadCompiled() {
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
  return import(pathToFileURL(bootstrap).href);
}
