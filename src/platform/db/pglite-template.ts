// PGlite's initdb costs seconds on this class of machine, and a copied cluster opens in under one.
// So a blank cluster is initialised once per PGlite version and copied for every new data directory;
// the test helper does the same with migrated clusters. Copies are built aside and renamed into
// place, so parallel processes never see a half-written template.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

// Templates are keyed by PGlite's version: a cluster made by one version may not open in another.
const pgliteVersion: string = (() => {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
})();

/** Directory where templates live, shared by every process on this machine. */
export function templateCacheDir(): string {
  return process.env.COUNTERSIGN_PGLITE_CACHE ?? join(tmpdir(), 'countersign-pglite-cache');
}

/** Ensures a template directory exists, building it with `build(dir)` once, atomically. */
export async function ensureTemplate(name: string, build: (dir: string) => Promise<void>): Promise<string> {
  const target = join(templateCacheDir(), `${name}-${pgliteVersion}`);
  if (existsSync(join(target, 'PG_VERSION'))) return target;
  const staging = `${target}.staging-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(staging), { recursive: true });
  try {
    await build(staging);
    try {
      renameSync(staging, target);
    } catch (err) {
      // Another process won the race; its template is as good as ours.
      if (!existsSync(join(target, 'PG_VERSION'))) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** Copies a template cluster into dataDir (which must not hold a cluster yet). */
export function copyCluster(template: string, dataDir: string): void {
  mkdirSync(dirname(dataDir), { recursive: true });
  cpSync(template, dataDir, { recursive: true });
}

/** Fills dataDir with a fresh, empty PGlite cluster. */
export async function copyBlankCluster(dataDir: string): Promise<void> {
  const template = await ensureTemplate('blank', async (dir) => {
    const pg = await PGlite.create({ dataDir: dir });
    await pg.close();
  });
  copyCluster(template, dataDir);
}
