// `npm run bench -- --embedded` in miniature: `countersign start` on PGlite three times on one new data
// directory (a first start and two warm ones), one customer paying for 4 s during the last. It proves
// the scenario measures what it says — every process `npm start` runs, RSS and PSS, ready times, orders
// paid — and leaves nothing running or on disk, not how much memory anything takes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EmbeddedReport } from '../bench/embedded-report.ts';
import { waitFor } from './support/proof-crash-approval.ts';

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
const scratchDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('countersign-embedded-'));

describe('npm run bench --embedded (smoke: idle 2 s, 1 customer for 4 s)', () => {
  const out = mkdtempSync(join(tmpdir(), 'cs-bench-embedded-'));
  let exitCode: number | null = null;
  let output = '';
  let report: EmbeddedReport;
  let dirsBefore: string[];

  before(async () => {
    dirsBefore = scratchDirs();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--embedded',
        '--idle-seconds',
        '2',
        '--load-seconds',
        '4',
        '--customers',
        '1',
        '--out',
        out,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    exitCode = await new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    report = JSON.parse(readFileSync(join(out, 'embedded-latest.json'), 'utf8')) as EmbeddedReport;
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('starts three times, each ready with all five processes measured, and pays orders in the last', () => {
    assert.equal(exitCode, 0, output);
    const [round] = report.rounds;
    assert.deepEqual(
      round!.current.starts.map((s) => s.kind),
      ['first', 'warm', 'warm'],
    );
    for (const start of round!.current.starts) {
      assert.ok(start.readyS > 0 && start.wallS >= start.readyS, JSON.stringify(start));
      assert.deepEqual(start.idle.map((p) => p.role).sort(), ['bank', 'gateway', 'launcher', 'mail-catcher', 'shop']);
      for (const p of start.idle) assert.ok(p.rssMb > 20 && p.pssMb > 0 && p.pssMb <= p.rssMb, JSON.stringify(p));
    }
    assert.ok(round!.current.load.paidOrders >= 1, output);
    assert.equal(round!.current.peak.length, 5);
    assert.ok(round!.current.peakTotal.rssMb >= round!.current.peak.reduce((a, p) => Math.max(a, p.rssMb), 0));
  });

  it('reports each target with its verdict, in the output and in embedded-latest.md', () => {
    const md = readFileSync(join(out, 'embedded-latest.md'), 'utf8');
    for (const row of [
      /\| ready, first start \(s\) \| ≤ 8 \|/,
      /\| ready, warm \(s\) \| ≤ 4 \|/,
      /\| shop idle \| ≤ 120 \|/,
      /\| bank peak \| ≤ 150 \|/,
      /\| all together, idle \| ≤ 600 \|/,
    ]) {
      assert.match(md, row);
      assert.match(output, row);
    }
  });

  it('leaves no process running and removes its data directory', () => {
    const pids = report.rounds[0]!.current.starts.flatMap((s) => s.idle.map((p) => p.pid));
    assert.deepEqual(pids.filter(alive), []);
    assert.deepEqual(
      scratchDirs().filter((d) => !dirsBefore.includes(d)),
      [],
    );
  });
});

describe('npm run bench --embedded, interrupted while the system idles', () => {
  it('kills every process of the running system and removes its data directory on SIGTERM', async () => {
    const dirsBefore = scratchDirs();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--embedded', '--idle-seconds', '30', '--out', join(tmpdir(), 'unused')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Ready, then idle for 30 s: the launcher, its mail catcher and the three parties are up.
    const systemPids = await new Promise<number[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no system started:\n${output}`)), 60_000);
      const poll = setInterval(() => {
        const dirs = scratchDirs().filter((d) => !dirsBefore.includes(d));
        const pids = readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              const env = readFileSync(`/proc/${p}/environ`, 'utf8');
              return dirs.some((d) => env.includes(`DATA_DIR=${join(tmpdir(), d)}`));
            } catch {
              return false;
            }
          });
        if (pids.length >= 5) {
          clearInterval(poll);
          clearTimeout(t);
          resolve(pids.map(Number));
        }
      }, 200);
    });
    child.kill('SIGTERM');
    assert.notEqual(await exited, 0);
    // The processes it stopped may take a moment to go on a loaded machine: up to 10 s, not a fixed wait.
    const left = await waitFor(
      async () => systemPids.filter(alive),
      (pids) => pids.length === 0,
      10_000,
    );
    assert.deepEqual(left, [], output);
    assert.deepEqual(
      scratchDirs().filter((d) => !dirsBefore.includes(d)),
      [],
    );
  });
});
