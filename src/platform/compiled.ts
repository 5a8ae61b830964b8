// The services run as compiled JavaScript, not through tsx: a party started with `--import tsx`
// spends ~2.2 s of CPU and ~70 MB of resident memory on the loader thread and esbuild's service
// before it serves (measured: gateway import 3.2 s / 160 MB with tsx, 0.8 s / 89 MB compiled).
//
// `compiledTree()` transpiles src/ with esbuild (one file in, one file out, imports left as imports
// with `.ts` turned into `.js`) into `.build/<hash>/src/`, next to a copy of every other file of src/
// (migrations, static assets), so paths taken from `import.meta.url` resolve exactly as in src/.
// `npm test` runs its test files from a tree of the same kind that also holds test/, bench/ and
// scripts/ (`compiledTree('tests')`); code there finds the project's files through projectRoot(),
// not by `../` from itself. The hash covers esbuild's version and every file's path and content: a
// changed source makes a new tree, never a stale one. Concurrent starters build apart and rename
// into place; the first rename wins.
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { projectRoot } from './project-root.ts';
import { build as esbuild, stop as stopEsbuild, version as esbuildVersion } from 'esbuild';

const ROOT = projectRoot();
const SRC = join(ROOT, 'src');
const OUT = join(ROOT, '.build');
// A tree is touched whenever a process starts from it; one unused for a day is removed.
const KEEP_OLD_TREES_MS = 86_400_000;

const isSource = (name: string) => /\.tsx?$/.test(name) && !name.endsWith('.d.ts');
const isTest = (name: string) => /\.test\.tsx?$/.test(name);

/** What a tree holds: the services' `src/` alone, or with the tests and the benchmarks (`npm test`). */
export type TreeKind = 'services' | 'tests';
const TREE_ROOTS: Record<TreeKind, readonly string[]> = {
  services: ['src'],
  tests: ['src', 'test', 'bench', 'scripts'],
};

/**
 * Every file under `dir`, but for directories named `node_modules` or starting with a dot: what tools
 * keep there is not ours to compile (the bench's `bench/.baseline/`: a baseline's checkout and its
 * installed packages, TypeScript sources among them).
 */
function listFiles(dir: string, withTests: boolean, into: string[] = []): string[] {
  if (!existsSync(dir)) return into;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!name.startsWith('.') && name !== 'node_modules') listFiles(path, withTests, into);
    } else if (withTests || !isTest(name)) into.push(path);
  }
  return into;
}

function treeHash(files: readonly string[], compilerVersion: string): string {
  const hash = createHash('sha256').update(compilerVersion).update('\0');
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function build(files: readonly string[], into: string): Promise<void> {
  const sources = files.filter((f) => isSource(f));
  await esbuild({
    entryPoints: sources,
    outdir: into,
    outbase: ROOT,
    // "Bundle" each file alone with every import external: esbuild then rewrites the specifiers
    // through the plugin below and leaves the module graph to Node, as in src/.
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    jsx: 'automatic',
    jsxImportSource: 'hono/jsx',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'error',
    plugins: [
      {
        name: 'keep-imports',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            const relativeTs = /^\.\.?\//.test(args.path) && /\.tsx?$/.test(args.path);
            return { path: relativeTs ? args.path.replace(/\.tsx?$/, '.js') : args.path, external: true };
          });
        },
      },
    ],
  });
  for (const file of files.filter((f) => !isSource(f))) {
    const to = join(into, relative(ROOT, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
  }
}

function pruneOldTrees(keep: string): void {
  for (const name of existsSync(OUT) ? readdirSync(OUT) : []) {
    const path = join(OUT, name);
    if (path === keep) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_OLD_TREES_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another starter removed it first.
    }
  }
}

/**
 * The compiled tree for the current sources (built now if missing): its root holds `src/`, and for
 * `tests` also `test/`, `bench/` and `scripts/`, each laid out as in the project.
 */
export async function compiledTree(kind: TreeKind = 'services'): Promise<string> {
  const files = TREE_ROOTS[kind].flatMap((dir) => listFiles(join(ROOT, dir), kind === 'tests'));
  const tree = join(OUT, treeHash(files, esbuildVersion));
  if (!existsSync(join(tree, 'src'))) {
    const scratch = join(OUT, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await build(files, scratch);
      try {
        renameSync(scratch, tree);
      } catch (err) {
        // Another starter finished the same tree first: use theirs.
        if (!existsSync(join(tree, 'src'))) throw err;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      // esbuild's service process (~120 MB after a build) would otherwise live as long as the caller.
      await stopEsbuild();
    }
  }
  const now = new Date();
  utimesSync(tree, now, now);
  pruneOldTrees(tree);
  return tree;
}

/** A file to run and the Node flags it needs. */
export interface Runnable {
  readonly file: string;
  readonly execArgv: readonly string[];
}

/**
 * The entry `src/<path>.ts` as a process should run it: the compiled file with plain Node, or —
 * with COUNTERSIGN_RUN_TS=1, to debug the sources themselves — the TypeScript file through tsx.
 */
export async function runnable(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Runnable> {
  if (env.COUNTERSIGN_RUN_TS === '1') return { file: join(SRC, path), execArgv: ['--import', 'tsx'] };
  const tree = await compiledTree();
  // No --enable-source-maps: it makes every Error.stack costly (the services create errors on ordinary
  // paths); the .map files are there for NODE_OPTIONS=--enable-source-maps when debugging.
  return { file: join(tree, 'src', path.replace(/\.tsx?$/, '.js')), execArgv: [] };
}
