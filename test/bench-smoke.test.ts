// `npm run bench` in miniature: the real harness (bench/run.ts as its own process, the three services
// as processes on the test PostgreSQL) for a few seconds with 2 customers and 20 watchers, writing to
// a temp dir, then the webhook-intake scenario for 1 s at concurrency 8 on PostgreSQL (with pgbench)
// and PGlite, on 150 seeded invoices per batch instead of thousands, with the parties under the CPU
// profiler (--cpu-prof) so the flame graphs are drawn from real profiles. It proves the harness works end
// to end — an order is paid, every delivery is accepted, every figure of the results file is there
// and the chart is written — not how fast anything is. Then `--shop-nodes 2` for 3 s without the
// intake: a second shop process on the same database, whose sockets get their messages through the
// hubs' LISTEN/NOTIFY fan-out.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminUrl } from '../src/platform/db/testing.ts';
import type { BenchResults } from '../bench/report.ts';

/** Runs bench/run.ts as its own process with `args`; resolves with its exit code, its output and latest.json. */
async function runBench(
  args: readonly string[],
  onChild: (child: ChildProcess) => void,
): Promise<{ exitCode: number | null; output: string; results: BenchResults | undefined; out: string }> {
  const out = args[args.indexOf('--out') + 1]!;
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onChild(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const results = existsSync(join(out, 'latest.json'))
    ? (JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults)
    : undefined;
  return { exitCode, output, results, out };
}

/** Stops a bench still running (SIGTERM: it stops the services and drops its databases), SIGKILL after 15 s. */
async function stopBench(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 15_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('npm run bench (smoke: 3 s, 2 customers, 20 watchers; intake 1 s at c=8)', () => {
  const out = mkdtempSync(join(tmpdir(), 'cs-bench-smoke-'));
  let child: ChildProcess | undefined;
  let exitCode: number | null = null;
  let output = '';
  let results: BenchResults;

  before(async () => {
    const run = await runBench(
      [
        '--duration',
        '3',
        '--warmup',
        '1',
        '--customers',
        '2',
        '--watchers',
        '20',
        '--settle-ms',
        '1000',
        '--progress-every',
        '1',
        '--intake-seconds',
        '1',
        '--intake-concurrency',
        '8',
        '--intake-invoices',
        '150',
        '--database-url',
        adminUrl(),
        '--out',
        out,
        '--cpu-prof',
      ],
      (c) => (child = c),
    );
    ({ exitCode, output } = run);
    if (run.results) results = run.results;
  });

  after(async () => {
    await stopBench(child);
    rmSync(out, { recursive: true, force: true });
    const profiles = /CPU profiles: (\S+);/.exec(output)?.[1];
    if (profiles?.includes('countersign-cpu-prof-')) rmSync(profiles, { recursive: true, force: true });
  });

  it('completes, prints progress and the table, and pays at least one order in the measured window', () => {
    assert.equal(exitCode, 0, `bench exited ${exitCode}:\n${output}`);
    assert.match(output, /\] measure\s+paid\s+\d+/, `no progress line:\n${output}`);
    assert.match(output, /== targets \(issue 7\) ==/, output);
    assert.ok(results, `no latest.json:\n${output}`);
    assert.ok(results.flow.paidOrders >= 1, `no order paid:\n${output}`);
    assert.equal(results.flow.errors, 0, results.flow.errorSamples.join('\n'));
    for (const step of results.flow.steps)
      assert.ok(step.count >= 1 && step.p50Ms > 0, `step ${step.step} has no samples`);
    assert.deepEqual(
      results.flow.steps.map((s) => s.step),
      ['cart', 'review', 'delivery', 'address', 'summary', 'pay_now', 'watch', 'authorize', 'until_paid', 'order'],
    );
  });

  it('writes every section: SQL per order (and one order alone), push latency, memory and CPU per service, and every target', () => {
    assert.ok(results, output);
    assert.ok(results.sql.statementsTracked, 'pg_stat_statements is loaded in the test cluster');
    const single = results.sql.singleOrder!;
    for (const p of ['shop', 'gateway', 'bank'] as const) {
      assert.ok(single.raw[p].statements > 0, `one order alone ran no statement on the ${p}`);
      assert.ok(results.sql.perPaidOrder![p].statements > 0, `no statements per paid order on the ${p}`);
      assert.ok(
        results.memory[p].idleMb > 20 && results.memory[p].peakMb >= results.memory[p].idleMb,
        `memory of the ${p}: ${JSON.stringify(results.memory[p])}`,
      );
    }
    assert.ok(single.shopStatements.length > 0);
    assert.equal(results.push?.watchers, 20);
    assert.equal(results.push?.watching, 20, 'every watcher is on an invoice of its customer');
    assert.equal(results.push?.dropped, 0);
    assert.equal(results.push?.joinsRefused, 0);
    assert.ok((results.push?.messages ?? 0) >= 1, "the watchers received the paid orders' messages");
    assert.ok(results.push!.latency.p50Ms >= 0 && results.push!.latency.p99Ms >= results.push!.latency.p50Ms);
    for (const k of ['shop', 'gateway', 'bank', 'postgres', 'bench', 'total'])
      assert.ok(results.cpu.perPaidOrderMs[k]! > 0, `CPU per order of ${k}: ${JSON.stringify(results.cpu)}`);
    assert.equal(results.intake.note, undefined, `intake: ${results.intake.note}`);
    assert.deepEqual(
      results.intake.rows.map((r) => [r.engine, r.concurrency]),
      [
        ['postgres', 8],
        ['pglite', 8],
      ],
    );
    for (const row of results.intake.rows) {
      assert.ok(
        row.deliveries >= 1 && row.perSecond > 0 && row.p99Ms >= row.p50Ms,
        `intake ${row.engine}: ${JSON.stringify(row)}`,
      );
      assert.equal(row.errors ?? 0, 0, `intake ${row.engine} errors: ${JSON.stringify(row.errorSamples)}`);
    }
    const pgRow = results.intake.rows[0]!;
    assert.ok(
      pgRow.pgbench && pgRow.pgbench.tps > 0 && pgRow.ratioToPgbench! > 0,
      `pgbench ran beside the intake: ${JSON.stringify(pgRow)}`,
    );
    assert.ok(
      pgRow.commitsPerDelivery !== null && pgRow.commitsPerDelivery > 0,
      'commits per accepted delivery are counted',
    );
    assert.deepEqual(
      results.targets.map((t) => t.name),
      [
        'full flow throughput',
        'webhook intake vs pgbench',
        'shop SQL statements per paid order (cart to paid)',
        'commits per accepted webhook',
        'push latency p99',
        'resident memory per service (peak)',
        'PGlite intake vs PostgreSQL',
      ],
    );
    for (const t of results.targets) assert.equal(typeof t.met, 'boolean', `${t.name} was not measured: ${t.measured}`);
  });

  it('with --cpu-prof, draws a flame graph per party and says where its CPU went', () => {
    assert.ok(results, output);
    assert.deepEqual(
      results.profile?.map((p) => p.party),
      ['shop', 'gateway', 'bank'],
    );
    for (const p of results.profile!) {
      const kinds = Object.values(p.byKind).reduce((a, b) => a + b, 0);
      assert.ok(p.busyMs > 0 && Math.abs(kinds - p.busyMs) < 1 + p.busyMs * 0.01, `${p.party}: ${JSON.stringify(p)}`);
      assert.ok(
        p.byKind.ours > 0 && p.byKind.database > 0,
        `${p.party} ran our code and queries: ${JSON.stringify(p)}`,
      );
      assert.equal(p.svg, join(out, `flame-${p.party}.svg`));
    }
    // The shop's graph holds its own request handling, under the name of its file.
    assert.match(readFileSync(join(out, 'flame-shop.svg'), 'utf8'), /<title>[^<]* src\/shop\/[^<]*\.(ts|js|tsx):\d+/);
    assert.match(output, /== where the CPU went/);
  });

  it('writes <timestamp>.json, latest.json and a well-formed SVG chart to the chosen directory', () => {
    const files = readdirSync(out)
      .filter((f) => !f.startsWith('flame-'))
      .sort();
    assert.equal(files.length, 3, files.join(', '));
    const stamped = files.find((f) => /^\d{4}-\d\d-\d\dT.*\.json$/.test(f))!;
    assert.equal(readFileSync(join(out, stamped), 'utf8'), readFileSync(join(out, 'latest.json'), 'utf8'));
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<polyline class="line" points="[\d., ]+"\/>/, 'throughput line');
    assert.match(svg, />until_paid</, 'latency row per step');
    assert.match(svg, /<\/svg>\n$/);
    // Balanced tags: every element opened is closed (a cheap well-formedness check without a parser).
    const opened = (svg.match(/<(?!\/|\?)[a-z]+[^>]*[^/]>/g) ?? []).length;
    const closed = (svg.match(/<\/[a-z]+>/g) ?? []).length;
    assert.equal(opened, closed);
  });
});

describe('npm run bench --shop-nodes 2 (3 s, 2 customers, 20 watchers dealt over two shop processes)', () => {
  const out = mkdtempSync(join(tmpdir(), 'cs-bench-nodes-'));
  let child: ChildProcess | undefined;
  let run: Awaited<ReturnType<typeof runBench>>;

  before(async () => {
    run = await runBench(
      [
        ...['--shop-nodes', '2', '--duration', '3', '--warmup', '1', '--customers', '2', '--watchers', '20'],
        ...['--settle-ms', '1000', '--no-intake', '--database-url', adminUrl(), '--out', out],
      ],
      (c) => (child = c),
    );
  });

  after(async () => {
    await stopBench(child);
    rmSync(out, { recursive: true, force: true });
  });

  it("delivers to the second node's watchers: its hub gets the first node's commits through LISTEN/NOTIFY", () => {
    assert.equal(run.exitCode, 0, `bench exited ${run.exitCode}:\n${run.output}`);
    const r = run.results!;
    assert.equal(r.shopNodes, 2);
    const [first, second] = r.push!.byNode;
    assert.equal(r.push!.byNode.length, 2);
    assert.notEqual(second!.url, first!.url, 'the second node is its own process on its own port');
    assert.deepEqual([first!.watchers, second!.watchers], [10, 10], 'the watchers are dealt over both nodes');
    assert.ok(second!.messages >= 1, `the second node's sockets received nothing: ${JSON.stringify(r.push)}`);
    assert.equal(r.push!.dropped, 0);
    assert.equal(r.push!.joinsRefused, 0, "every join on either node passes the shop's room authoriser");
    assert.ok(r.memory['shop-2']!.idleMb > 20, `memory of shop-2: ${JSON.stringify(r.memory)}`);
    assert.ok(r.cpu.byProcess?.['shop-2'], `CPU of shop-2: ${JSON.stringify(r.cpu)}`);
  });
});
