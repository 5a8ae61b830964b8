// The command line loads only the subcommand it runs (`countersign start`, which stays resident beside
// the parties, must not hold every other command's dependencies): which command a command line names,
// past the global options and their values, and the full program whenever it names none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namedCommand, runCli } from '../src/cli/main.ts';
import { rootProgram } from '../src/cli/program.ts';

const io = { env: {}, out: () => undefined, err: () => undefined };
const named = (...argv: string[]) => namedCommand(argv, rootProgram(io));

describe('countersign: the subcommand a command line names', () => {
  it('is its first word, after boolean options and after the value of an option that takes one', () => {
    assert.equal(named('start'), 'start');
    assert.equal(named('--json', 'events', 'list'), 'events');
    assert.equal(named('--shop-url', 'http://127.0.0.1:3000', 'reconcile'), 'reconcile');
    // A value that happens to be a command's name is still the option's value.
    assert.equal(named('--data-dir', 'start', 'ledger', 'verify'), 'ledger');
    assert.equal(named('--shop-url=http://x', 'doctor'), 'doctor');
  });

  it('is none for help, an unknown word, nothing, or words after --', () => {
    assert.equal(named(), undefined);
    assert.equal(named('--help'), undefined);
    assert.equal(named('help', 'start'), undefined);
    assert.equal(named('evnts'), undefined);
    assert.equal(named('--', 'start'), undefined);
  });

  it('runs the named command alone, and lists and suggests every command otherwise', async () => {
    let out = '';
    let err = '';
    const capture = { env: {}, out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
    assert.equal(await runCli(['--data-dir', 'start', 'ledger', '--help'], capture), 0);
    assert.match(out, /Usage: countersign ledger/);
    out = '';
    assert.equal(await runCli(['--help'], capture), 0);
    for (const c of ['start', 'audit', 'events', 'trigger', 'listen', 'reconcile', 'doctor', 'secrets', 'ledger'])
      assert.match(out, new RegExp(`^  ${c}\\b`, 'm'), c);
    assert.equal(await runCli(['evnts'], capture), 2);
    assert.match(err, /unknown command 'evnts'[\s\S]*Did you mean events\?/);
  });
});
