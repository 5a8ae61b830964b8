// The mail catcher `npm start` runs as a child process stops when its launcher dies without stopping
// it (SIGKILL, a crash): before, it stayed behind, an orphan holding its two ports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

describe('the mail catcher of npm start', () => {
  it('exits when its launcher is killed', async () => {
    // A stand-in launcher: starts the catcher exactly as src/main.ts does, prints its pid and inbox.
    const launcher = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { launchCatcher } = await import('./src/shop/mail/launch-catcher.ts'); const c = await launchCatcher(process.env); console.log(`${c.child.pid} ${c.inboxUrl}`);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      launcher.stdout.on('data', (d) => {
        out += String(d);
        if (out.includes('\n')) resolve(out.trim());
      });
      launcher.once('exit', (code) => reject(new Error(`the launcher exited (${code}) before the catcher was ready`)));
    });
    const [pidText, inbox] = line.split(' ');
    const catcher = Number(pidText);
    assert.equal((await fetch(`${inbox}/email`)).status, 200);
    launcher.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(catcher) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const orphaned = alive(catcher);
    if (orphaned) process.kill(catcher, 'SIGKILL');
    assert.equal(orphaned, false, 'the catcher outlived its launcher by 10 s');
    await assert.rejects(fetch(`${inbox}/email`));
  });
});
