#!/usr/bin/env node
// `npm run proof`: the proof suites of test/proof-*.test.ts at full size, then one report.
//
//   npm run proof                          every suite, full size
//   npm run proof -- chaos crash           only these suites
//   npm run proof -- --size ci             the size `npm test` runs (quick look)
//   npm run proof -- --seed 1a2b3c chaos   replay a failure: every suite draws its randomness from the seed
//   npm run proof -- --json out.json       also write the reports as JSON
//
// It runs them through `npm test`'s own pipeline (scripts/test.mjs: typecheck, Chromium, a throwaway
// PostgreSQL) with COUNTERSIGN_PROOF_SIZE=full and a long per-file timeout, while each suite appends
// its figures (test/support/proof.ts recordProof) to a report file. The table lists per suite: cases
// tried, wrongly accepted, lost, double-fulfilled, recovered, and the seed; a failure prints its seed
// and the command that replays it. Exit status: non-zero when a test failed, a suite reported a
// wrongly accepted / lost / double-fulfilled case, or a selected suite reported nothing.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FULL_SIZE_FILE_TIMEOUT_MS = 3 * 3600_000;
const say = (line = '') => process.stdout.write(`${line}\n`);

function usage() {
  say('usage: npm run proof [-- [--size full|ci] [--seed SEED] [--json FILE] [SUITE...]]');
  say(`  SUITE  one of: ${availableSuites().join(', ')}`);
}

/** Suite names from test/proof-<suite>[-part].test.ts. */
function availableSuites() {
  const dir = path.join(ROOT, 'test');
  const names = readdirSync(dir)
    .map((f) => /^proof-([a-z]+)(?:-[a-z0-9-]+)?\.test\.ts$/.exec(f)?.[1])
    .filter(Boolean);
  return [...new Set(names)].sort();
}

function parseArgs(argv) {
  const opts = { size: 'full', seed: undefined, json: undefined, suites: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '-h' || arg === '--help') {
      usage();
      process.exit(0);
    } else if (arg === '--size') {
      opts.size = value();
      if (!['full', 'ci'].includes(opts.size)) throw new Error(`--size must be full or ci, not ${opts.size}`);
    } else if (arg === '--seed') opts.seed = value();
    else if (arg === '--json') opts.json = path.resolve(value());
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (see npm run proof -- --help)`);
    else opts.suites.push(arg);
  }
  const known = availableSuites();
  if (known.length === 0) throw new Error('no proof suite found (test/proof-*.test.ts)');
  for (const s of opts.suites) {
    if (!known.includes(s)) throw new Error(`unknown suite ${JSON.stringify(s)}; known: ${known.join(', ')}`);
  }
  if (opts.suites.length === 0) opts.suites = known;
  return opts;
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? 128 + (os.constants.signals[signal] ?? 0)));
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  });
}

function readReports(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** Sums several reports of one suite (a suite split over files reports once per file). */
function merge(suite, reports) {
  const sum = (k) => reports.reduce((n, r) => n + (Number(r[k]) || 0), 0);
  const figures = {};
  for (const r of reports) {
    for (const [k, v] of Object.entries(r.figures ?? {})) {
      figures[k] = typeof v === 'number' && typeof figures[k] === 'number' ? figures[k] + v : v;
    }
  }
  return {
    suite,
    size: [...new Set(reports.map((r) => r.size))].join('+'),
    seed: [...new Set(reports.map((r) => r.seed))].join(','),
    cases: sum('cases'),
    wronglyAccepted: sum('wronglyAccepted'),
    lost: sum('lost'),
    doubleFulfilled: sum('doubleFulfilled'),
    recovered: sum('recovered'),
    failures: reports.flatMap((r) => r.failures ?? []),
    figures,
  };
}

function table(rows) {
  const head = ['suite', 'size', 'cases', 'wrongly accepted', 'lost', 'double-fulfilled', 'recovered', 'seed'];
  const body = rows.map((r) =>
    r.missing
      ? [r.suite, '-', 'no report', '-', '-', '-', '-', '-']
      : [r.suite, r.size, r.cases, r.wronglyAccepted, r.lost, r.doubleFulfilled, r.recovered, r.seed].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 || i === 1 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  say(line(head));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) say(line(b));
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'countersign-proof-'));
  const reportFile = path.join(tmp, 'reports.jsonl');
  const env = {
    ...process.env,
    COUNTERSIGN_PROOF_SIZE: opts.size,
    COUNTERSIGN_PROOF_REPORT: reportFile,
    COUNTERSIGN_TEST_TIMEOUT_MS:
      process.env.COUNTERSIGN_TEST_TIMEOUT_MS ?? String(opts.size === 'full' ? FULL_SIZE_FILE_TIMEOUT_MS : 300_000),
  };
  // One seed for the whole run (drawn here unless given), so that a suite split over several files
  // (crash, adversarial) reports one seed, and the printed replay command replays every file of it.
  const seed = opts.seed ?? randomBytes(8).toString('hex');
  env.COUNTERSIGN_PROOF_SEED = seed;
  say(`proof: suites ${opts.suites.join(', ')} at ${opts.size} size, seed ${seed}`);

  const t0 = Date.now();
  const code = await run(
    process.execPath,
    [path.join(ROOT, 'scripts', 'test.mjs'), ...opts.suites.map((s) => `test/proof-${s}`)],
    env,
  );
  const reports = readReports(reportFile);
  rmSync(tmp, { recursive: true, force: true });

  const rows = opts.suites.map((suite) => {
    const mine = reports.filter((r) => r.suite === suite);
    return mine.length ? merge(suite, mine) : { suite, missing: true };
  });
  say('');
  say(`proof report (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  table(rows);
  for (const r of rows.filter((x) => !x.missing && Object.keys(x.figures).length)) {
    say(
      `  ${r.suite}: ${Object.entries(r.figures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  const failures = rows
    .filter((r) => !r.missing)
    .flatMap((r) => r.failures.map((f) => ({ suite: r.suite, seed: r.seed, ...f })));
  if (failures.length) {
    say('');
    say('failures (replay with the command shown):');
    for (const f of failures)
      say(`  - ${f.suite} / ${f.case}: ${f.detail}\n    COUNTERSIGN_PROOF_SEED=${f.seed} npm run proof -- ${f.suite}`);
  }
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ size: opts.size, suites: rows }, null, 2)}\n`);

  const broken = rows.filter((r) => !r.missing && r.wronglyAccepted + r.lost + r.doubleFulfilled > 0);
  const missing = rows.filter((r) => r.missing);
  const problems = [];
  if (code !== 0) problems.push(`the tests failed (exit ${code})`);
  if (broken.length) problems.push(`invariants broken in ${broken.map((r) => r.suite).join(', ')}`);
  if (missing.length) problems.push(`no report from ${missing.map((r) => r.suite).join(', ')}`);
  say('');
  say(
    problems.length
      ? `PROOF FAILED: ${problems.join('; ')}`
      : 'PROOF OK: no case wrongly accepted, lost or double-fulfilled',
  );
  process.exit(problems.length ? 1 : 0);
}

main().catch((err) => {
  say(`proof: ${err.message}`);
  process.exit(2);
});
