#!/usr/bin/env node
// `npm test`: the whole test pipeline, failing fast with a clear message.
//
//   npm test                    typecheck, lint, then every src/**/*.test.ts and test/**/*.test.ts
//   npm test -- money webhook   only test files whose path contains "money" or "webhook"
//
// Stages:
//   1. discover      src/**/*.test.ts, test/**/*.test.ts, filtered by the CLI args
//   2. typecheck     tsc --noEmit (the project's tsconfig; always the whole project)
//   3. lint          `npm run lint`: biome ci (format + lint rules, biome.json) and eslint's
//                    type-aware promise rules (eslint.config.mjs); always the whole project.
//                    ESLint starts alongside the typecheck (both are single-threaded).
//   4. compile       src/, test/, bench/ and scripts/ transpiled by esbuild into .build/<hash>/ (src/platform/
//                    compiled.ts, the same build the services run from), so that no test file pays
//                    for the tsx loader: that was ~1.5 s of CPU per file. Source maps map stack traces
//                    back to the .ts files.
//   5. chromium      /usr/bin/chromium or $CHROMIUM_PATH; apt-get installs it when root
//   6. postgres      a throwaway PostgreSQL 15 cluster, unless COUNTERSIGN_TEST_PG_URL is set
//   7. tests         node --test on the compiled files, spec report on stdout, TAP to a temp file
//                    (with each file's time: scripts/test-file-times.mjs), the ten slowest files at
//                    the end. V8 runs WebAssembly (PGlite) on its baseline compiler only, as the
//                    embedded services do (src/main.ts): a test file's PGlite is short-lived, and
//                    optimising its code cost more CPU than it saved.
//
// Optional input: COUNTERSIGN_TEST_TIMEOUT_MS (per-test timeout, default 300000);
// COUNTERSIGN_RUN_TS=1 runs the test files, and the services they start, through tsx instead of compiled.
//
// Environment given to the tests:
//   CHROMIUM_PATH            path of the Chromium binary (test/support/browser.ts uses it)
//   COUNTERSIGN_TEST_PG_URL  admin URL (superuser `postgres`) of a PostgreSQL 15 server;
//                            if you set it yourself, that server is used and left alone
//
// The run fails when: the typecheck or the lint fails, the runner exits non-zero, no test
// ran (or a test file defines no test), any test fails, is cancelled (timeouts
// count as cancelled), skipped or todo. The last line printed is always
// `tests: N passed, N failed` once tests have run (failed = every test that
// did not pass: fail + cancelled + skipped + todo); CI reads that line.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './ensure-chromium.mjs';
import { loadCompiled } from './load-compiled.mjs';
import { startThrowawayPostgres } from './pg-cluster.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEST_ROOTS = ['src', 'test'];
const TEST_SUFFIX = '.test.ts';
const TEST_TIMEOUT_MS = Number(process.env.COUNTERSIGN_TEST_TIMEOUT_MS) || 300_000; // per test (and per file)
const TEST_CONCURRENCY = 2;

const startedAt = Date.now();
const timings = [];
let cluster; // throwaway PostgreSQL, if we started one
let runner; // the `node --test` child while it runs
let linter; // the eslint child while it runs
let tapDir; // temp dir holding the TAP report
let summaryLine; // `tests: N passed, N failed`, printed last
let finishing = false;

class StageError extends Error {}

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);

async function stage(name, fn) {
  say(`\n==> ${name}`);
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    const ms = Date.now() - t0;
    timings.push([name.split(' ')[0], ms]);
    say(`<== ${name.split(' ')[0]}: ${secs(ms)}`);
  }
}

/** Spawn with inherited stdio; resolve with the exit code (signals → 128+n). */
function runInherited(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0)));
    if (options.track) runner = child;
  });
}

/** Spawn with stdout+stderr captured; resolve with { code, output } (never rejects). */
function runCaptured(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    linter = child;
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on('close', (code, signal) => {
      linter = undefined;
      resolve({ code: code ?? 128 + (os.constants.signals[signal] ?? 0), output });
    });
  });
}

const localBin = (...parts) => path.join(ROOT, 'node_modules', ...parts);

function usage() {
  say('usage: npm test [-- FILTER...]');
  say('  FILTER  run only test files whose path (relative to the repo) contains one of these substrings');
  say('env: COUNTERSIGN_TEST_PG_URL=postgres://...  use this PostgreSQL instead of starting a throwaway one');
  say('     CHROMIUM_PATH=/path/to/chromium         use this Chromium instead of /usr/bin/chromium');
  say('     COUNTERSIGN_TEST_TIMEOUT_MS=300000        per-test timeout (a timed-out test counts as cancelled)');
}

function parseArgs(argv) {
  const filters = [];
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') {
      usage();
      process.exit(0);
    }
    if (arg.startsWith('-')) throw new StageError(`unknown option ${arg} (see npm test -- --help)`);
    filters.push(arg);
  }
  return filters;
}

/** Recursive walk for *.test.ts, skipping node_modules and dot-directories. */
function findTestFiles(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return out;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findTestFiles(full, out);
    else if (entry.isFile() && entry.name.endsWith(TEST_SUFFIX)) out.push(full);
  }
  return out;
}

/**
 * Read node's TAP report: the trailing `# tests N` … counters, plus the names
 * of tests that were skipped, todo, failed or cancelled, and of test files that
 * defined no test at all (node reports such a file as one passing "test").
 */
function parseTap(text, testFiles) {
  const counters = {};
  for (const key of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
    const matches = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
    if (matches.length) counters[key] = Number(matches.at(-1)[1]);
  }
  const complete = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].every((k) => k in counters);

  const files = new Set(testFiles);
  const unescape = (s) => s.replace(/\\#/g, '#').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
  const lists = { skipped: [], todo: [], failed: [], cancelled: [], empty: [] };
  const stack = []; // names of the enclosing subtests, by depth
  const hasChildren = []; // whether the subtest at each depth had a nested subtest
  let last; // the most recent `not ok` result, waiting for its failureType
  for (const line of text.split('\n')) {
    const sub = /^( *)# Subtest: (.*)$/.exec(line);
    if (sub) {
      const depth = sub[1].length / 4;
      if (depth > 0) hasChildren[depth - 1] = true;
      stack.length = depth;
      stack.push(unescape(sub[2]));
      hasChildren.length = depth;
      hasChildren.push(false);
      continue;
    }
    const res = /^( *)(ok|not ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
    if (res) {
      const depth = res[1].length / 4;
      const name = unescape(res[3]);
      const full = [...stack.slice(0, depth), name].join(' > ');
      last = undefined;
      if (res[4] === 'SKIP') lists.skipped.push(full);
      else if (res[4] === 'TODO') lists.todo.push(full);
      else if (res[2] === 'not ok') last = { full };
      else if (depth === 0 && files.has(name) && !hasChildren[0]) lists.empty.push(sourceOf(name));
      continue;
    }
    const ft = /^ +failureType: '(\w+)'$/.exec(line);
    if (ft && last) {
      if (ft[1] === 'cancelledByParent' || ft[1] === 'testTimeoutFailure') lists.cancelled.push(last.full);
      else if (ft[1] !== 'subtestsFailed') lists.failed.push(last.full);
      last = undefined;
    }
  }
  return { counters, complete, lists };
}

/** The test file (path relative to the repo) that a file run by the runner was compiled from. */
let sourceOf = (file) => path.relative(ROOT, file);

/** The ten test files whose tests took longest (scripts/test-file-times.mjs wrote them). */
function printSlowestFiles(timesFile) {
  if (!existsSync(timesFile)) return;
  const slowest = readFileSync(timesFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .map(([ms, file]) => [Number(ms), sourceOf(file)])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 10);
  if (!slowest.length) return;
  say('');
  say(`slowest test files (time in their tests; ${TEST_CONCURRENCY} files run at a time):`);
  for (const [ms, file] of slowest) say(`  ${secs(ms).padStart(8)}  ${file}`);
}

async function main() {
  const filters = parseArgs(process.argv.slice(2));
  say(`countersign tests (node ${process.version}, ${os.cpus().length} cores)`);

  if (!existsSync(path.join(ROOT, 'node_modules'))) {
    throw new StageError('node_modules is missing: run `npm ci` first (or use .ci/run, which does it).');
  }

  // 1. discover (first: a filter that matches nothing fails at once)
  const files = await stage('discover test files', async () => {
    const all = TEST_ROOTS.flatMap((d) => findTestFiles(path.join(ROOT, d))).sort();
    const rel = (f) => path.relative(ROOT, f);
    const chosen = filters.length ? all.filter((f) => filters.some((s) => rel(f).includes(s))) : all;
    if (chosen.length === 0) {
      throw new StageError(
        filters.length
          ? `no test ran: no test file matches ${filters.map((f) => JSON.stringify(f)).join(' or ')} ` +
              `(${all.length} test files exist under ${TEST_ROOTS.join('/, ')}/)`
          : `no test ran: no *${TEST_SUFFIX} file under ${TEST_ROOTS.join('/, ')}/`,
      );
    }
    say(`    ${chosen.length} of ${all.length} test files${filters.length ? ` (filter: ${filters.join(' ')})` : ''}`);
    if (filters.length) for (const f of chosen) say(`      ${rel(f)}`);
    return chosen;
  });

  // 3. lint, part one: eslint's type-aware pass builds its own TypeScript program, as slow as tsc;
  // started now it runs beside the typecheck on the second core.
  const eslintBin = localBin('eslint', 'bin', 'eslint.js');
  const biomeBin = localBin('@biomejs', 'biome', 'bin', 'biome');
  for (const bin of [eslintBin, biomeBin]) {
    if (!existsSync(bin)) throw new StageError(`${path.relative(ROOT, bin)} is not installed: run \`npm ci\`.`);
  }
  const eslintRun = runCaptured(process.execPath, [eslintBin, '--max-warnings=0', '.']);

  // 2. typecheck
  await stage('typecheck (tsc --noEmit)', async () => {
    // The local compiler, run directly: `npx tsc` would try to fetch an
    // unrelated npm package called "tsc" if typescript were not installed.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!existsSync(tsc)) throw new StageError('typescript is not installed: run `npm ci`.');
    const code = await runInherited(process.execPath, [tsc, '--noEmit', '-p', path.join(ROOT, 'tsconfig.json')]);
    if (code !== 0) throw new StageError(`typecheck failed (tsc exit ${code}): fix the type errors above.`);
  });

  // 3. lint
  await stage('lint (biome ci, eslint)', async () => {
    // Rules in full (they are few), formatting as a list of files (a diff of each would drown the log).
    const biome = ['ci', '--colors=off'];
    const rules = await runInherited(process.execPath, [biomeBin, ...biome, '--formatter-enabled=false']);
    const format = await runInherited(process.execPath, [
      biomeBin,
      ...biome,
      '--linter-enabled=false',
      '--reporter=summary',
    ]);
    const eslint = await eslintRun;
    if (eslint.output.trim()) say(eslint.output.trimEnd());
    const failed = [];
    if (rules !== 0) failed.push(`biome (exit ${rules}): a rule in biome.json is broken (see above)`);
    if (format !== 0) failed.push('biome: the files listed above are not formatted (`npm run format` rewrites them)');
    if (eslint.code !== 0) failed.push(`eslint (exit ${eslint.code}): a promise is not awaited or handled (see above)`);
    if (failed.length) throw new StageError(`lint failed: ${failed.join('; ')}. \`npm run lint\` repeats the check.`);
    say('    biome and eslint: no findings');
  });

  // 4. compile
  const runTs = process.env.COUNTERSIGN_RUN_TS === '1';
  const runFiles = runTs
    ? files
    : await stage('compile (esbuild)', async () => {
        let tree;
        try {
          tree = await (await loadCompiled()).compiledTree('tests');
        } catch (err) {
          throw new StageError(`could not compile the sources for the tests: ${err.message}`);
        }
        say(`    ${path.relative(ROOT, tree)}`);
        const compiled = new Map(
          files.map((f) => [path.join(tree, path.relative(ROOT, f)).replace(/\.ts$/, '.js'), f]),
        );
        sourceOf = (file) => path.relative(ROOT, compiled.get(path.resolve(ROOT, file)) ?? file);
        return [...compiled.keys()];
      });

  // 5. chromium
  const chromiumPath = await stage('chromium', async () => {
    try {
      const p = await ensureChromium({ log: (l) => say(`    ${l}`) });
      say(`    using ${p}`);
      return p;
    } catch (err) {
      throw new StageError(`chromium is not available: ${err.message}`);
    }
  });

  // 6. postgres
  const pgUrl = await stage('postgres', async () => {
    if (process.env.COUNTERSIGN_TEST_PG_URL) {
      say('    using COUNTERSIGN_TEST_PG_URL from the environment');
      return process.env.COUNTERSIGN_TEST_PG_URL;
    }
    try {
      cluster = await startThrowawayPostgres();
    } catch (err) {
      throw new StageError(`could not start a throwaway PostgreSQL: ${err.message}`);
    }
    say(`    throwaway PostgreSQL 15 at ${cluster.url} (${cluster.dir})`);
    return cluster.url;
  });

  // 7. tests
  tapDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-tap-'));
  const tapFile = path.join(tapDir, 'report.tap');
  const timesFile = path.join(tapDir, 'file-times.tsv');
  const runnerCode = await stage('tests (node --test)', () =>
    runInherited(
      process.execPath,
      [
        '--liftoff-only',
        ...(runTs ? ['--import', 'tsx'] : ['--enable-source-maps']),
        '--test',
        `--test-concurrency=${TEST_CONCURRENCY}`,
        `--test-timeout=${TEST_TIMEOUT_MS}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${path.join(ROOT, 'scripts', 'test-file-times.mjs')}`, // TAP, and each file's time
        `--test-reporter-destination=${tapFile}`,
        ...runFiles.map((f) => path.relative(ROOT, f)),
      ],
      {
        env: {
          ...process.env,
          CHROMIUM_PATH: chromiumPath,
          COUNTERSIGN_TEST_PG_URL: pgUrl,
          COUNTERSIGN_TEST_FILE_TIMES: timesFile,
        },
        track: true,
      },
    ),
  );
  runner = undefined;

  // 8. verdict
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const { counters, complete, lists } = parseTap(tap, runFiles);
  if (!complete) {
    throw new StageError(
      `the test runner (exit ${runnerCode}) left no result counts in its TAP report; ` +
        'it probably crashed or was killed: see the output above.',
    );
  }
  const empty = lists.empty.length;
  const passed = counters.pass - empty;
  const failed = counters.fail + counters.cancelled + counters.skipped + counters.todo + empty;
  summaryLine = `tests: ${passed} passed, ${failed} failed`;

  printSlowestFiles(timesFile);
  say('');
  say(
    `results: pass ${passed}, fail ${counters.fail}, cancelled ${counters.cancelled}, ` +
      `skipped ${counters.skipped}, todo ${counters.todo} (${counters.suites ?? 0} suites, ${files.length} files)`,
  );
  const problems = [];
  const show = (title, names) => {
    if (!names.length) return;
    say(`${title}:`);
    for (const n of names) say(`  - ${runFiles.includes(n) ? sourceOf(n) : n}`);
  };
  if (counters.fail > 0) {
    problems.push(`${counters.fail} test(s) failed`);
    show('failed', lists.failed);
  }
  if (counters.cancelled > 0) {
    problems.push(`${counters.cancelled} test(s) cancelled (timed out after ${TEST_TIMEOUT_MS} ms, or cut short)`);
    show('cancelled', lists.cancelled);
    const fileTimeouts = lists.cancelled.filter((n) => runFiles.includes(n));
    if (fileTimeouts.length) {
      say(
        `  note: a cancelled entry named after a test file means that file's process ran longer than ${TEST_TIMEOUT_MS} ms.\n` +
          '  In Node 20, --test-timeout bounds each whole test file too, not only each test. Either its tests\n' +
          '  together took that long (split the file, or raise COUNTERSIGN_TEST_TIMEOUT_MS), or it left a handle\n' +
          '  open (server, pg pool, browser, timer) after its tests, so its process never exited.',
      );
    }
  }
  if (counters.skipped > 0) {
    problems.push(`${counters.skipped} test(s) skipped: a skipped test is a defect in this project`);
    show('skipped', lists.skipped);
  }
  if (counters.todo > 0) {
    problems.push(`${counters.todo} test(s) marked todo: a todo test is a defect in this project`);
    show('todo', lists.todo);
  }
  if (empty > 0) {
    problems.push(`${empty} test file(s) define no test`);
    show('files without tests', lists.empty);
  }
  if (passed + failed === 0) problems.push('no test ran');
  if (runnerCode !== 0 && problems.length === 0) problems.push(`the test runner exited with code ${runnerCode}`);
  if (problems.length) throw new StageError(`tests failed: ${problems.join('; ')}.`);
  return 0;
}

async function cleanup() {
  if (linter && linter.exitCode === null && linter.signalCode === null) linter.kill('SIGTERM');
  if (cluster) {
    const c = cluster;
    cluster = undefined;
    try {
      await c.stop();
    } catch (err) {
      process.stderr.write(`warning: could not stop the throwaway PostgreSQL cleanly: ${err.message}\n`);
    }
  }
  if (tapDir) {
    await rm(tapDir, { recursive: true, force: true }).catch(() => {});
    tapDir = undefined;
  }
}

async function finish(code, message) {
  if (finishing) return;
  finishing = true;
  await cleanup();
  say('');
  if (message) say(`FAILED: ${message}`);
  else say('OK: all tests passed');
  say(
    `timings: ${[...timings.map(([n, ms]) => `${n} ${secs(ms)}`), `total ${secs(Date.now() - startedAt)}`].join(', ')}`,
  );
  if (summaryLine) say(summaryLine);
  process.exit(code);
}

// Ctrl-C / kill: stop the runner and the throwaway PostgreSQL before leaving.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (finishing) {
      process.exit(128 + os.constants.signals[signal]); // second signal: leave now ('exit' hooks still stop PG)
    }
    process.stderr.write(`\n${signal} received: stopping tests and PostgreSQL...\n`);
    const child = runner;
    const done = () => finish(128 + os.constants.signals[signal], `interrupted by ${signal}`);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('close', () => {
        clearTimeout(force);
        void done();
      });
    } else {
      void done();
    }
  });
}

main().then(
  (code) => finish(code),
  (err) => finish(1, err instanceof StageError ? err.message : (err?.stack ?? String(err))),
);
