import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CRASH_POINTS, crashPointParty, parseCrashAt } from './crash-points.ts';
import { projectRoot } from './project-root.ts';

const MODULE = join(projectRoot(), 'src/platform/crash-points.ts');

/** Runs a child that reaches `shop.webhook.after_commit` three times, printing after each; returns how it ended. */
function runChild(crashAt: string | undefined) {
  const script = `const { crashPoint } = await import(${JSON.stringify(MODULE)});
for (let i = 1; i <= 3; i++) { crashPoint('shop.webhook.before_commit'); crashPoint('shop.webhook.after_commit'); process.stdout.write('passed ' + i + '\\n'); }`;
  const env = { ...process.env };
  delete env.COUNTERSIGN_CRASH_AT;
  if (crashAt !== undefined) env.COUNTERSIGN_CRASH_AT = crashAt;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  return { signal: r.signal, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('crash points', () => {
  it('do nothing when COUNTERSIGN_CRASH_AT is unset', () => {
    const r = runChild(undefined);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'passed 1\npassed 2\npassed 3\n');
  });

  it('kill the process with SIGKILL the first time the named point is reached, and only that point', () => {
    const r = runChild('shop.webhook.after_commit');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, '', 'nothing after the crash point ran');
  });

  it('with name@n, kill on the n-th time and let the earlier ones pass', () => {
    const r = runChild('shop.webhook.after_commit@3');
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.stdout, 'passed 1\npassed 2\n');
  });

  it('refuse an unknown point or a malformed count at startup instead of never firing', () => {
    assert.throws(() => parseCrashAt('shop.webhook.after_comit'), /unknown crash point/);
    assert.throws(() => parseCrashAt('shop.webhook.after_commit@0'), /unknown crash point/);
    assert.throws(() => parseCrashAt('shop.webhook.after_commit@x'), /unknown crash point/);
    const r = runChild('no.such.point');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown crash point/);
    assert.deepEqual(parseCrashAt('gateway.void.before_bank@12'), { name: 'gateway.void.before_bank', nth: 12 });
    assert.equal(parseCrashAt(undefined), undefined);
  });

  it('name every point after its party', () => {
    for (const name of Object.keys(CRASH_POINTS) as (keyof typeof CRASH_POINTS)[]) {
      assert.match(name, /^(shop|gateway)\.[a-z_]+\.[a-z_]+$/);
      assert.ok(['shop', 'gateway'].includes(crashPointParty(name)));
    }
  });
});
