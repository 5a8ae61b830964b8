// `countersign start`: the launcher of src/main.ts (what `npm start` runs), with the gateway the shop
// pays through, ports, https, and `--only` to run some parties alone (the gateway and the bank as a
// stateful emulator for an existing integration).
import { Command, InvalidArgumentError, Option } from 'commander';
import { main as launch, PARTY_NAMES, type PartyName } from '../../main.ts';
import { EXIT } from '../exit-codes.ts';
import { action, type RunIo } from '../program.ts';

function parties(value: string): PartyName[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(PARTY_NAMES as readonly string[]).includes(n));
  if (unknown.length || names.length === 0)
    throw new InvalidArgumentError(`expected some of ${PARTY_NAMES.join(',')}; got ${unknown.join(',') || 'nothing'}`);
  if (names.includes('shop') && !names.includes('gateway'))
    throw new InvalidArgumentError('the shop pays through the gateway: --only shop needs gateway too');
  return [...new Set(names)] as PartyName[];
}

function portNumber(value: string): string {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535');
  return String(n);
}

interface StartFlags {
  only?: PartyName[];
  gateway: 'ours' | 'stripe';
  tls?: boolean;
  shopPort?: string;
  gatewayPort?: string;
  bankPort?: string;
}

/** Adds `start`. */
export function registerStart(program: Command, io: RunIo): void {
  program
    .command('start')
    .description(
      'run the shop, the gateway and the bank (each its own process, port and database) until Ctrl-C; prints each URL and "ready in"',
    )
    .option(
      '--only <parties>',
      'run only these, comma-separated (gateway,bank: an emulator for your own integration)',
      parties,
    )
    .addOption(
      new Option('--gateway <which>', 'the gateway the shop pays through (sets SHOP_GATEWAY)')
        .choices(['ours', 'stripe'])
        .default('ours'),
    )
    .option('--tls', 'serve all three over https with a local CA made at first start in <data-dir>/tls')
    .option('--shop-port <port>', 'the shop port (default SHOP_PORT or 3000)', portNumber)
    .option('--gateway-port <port>', 'the gateway port (default GATEWAY_PORT or 3001)', portNumber)
    .option('--bank-port <port>', 'the bank port (default BANK_PORT or 3002)', portNumber)
    .addHelpText(
      'after',
      '\nExamples:\n  countersign start\n  countersign start --gateway stripe\n  countersign start --only gateway,bank --gateway-port 12111',
    )
    .action(
      action(io, async (ctx, flags: StartFlags) => {
        const env: Record<string, string> = { DATA_DIR: ctx.dataDir };
        if (flags.gateway !== 'ours' || !ctx.env.SHOP_GATEWAY) env.SHOP_GATEWAY = flags.gateway;
        if (flags.shopPort) env.SHOP_PORT = flags.shopPort;
        if (flags.gatewayPort) env.GATEWAY_PORT = flags.gatewayPort;
        if (flags.bankPort) env.BANK_PORT = flags.bankPort;
        await launch({ ...(flags.only ? { only: flags.only } : {}), tls: flags.tls === true, env });
        // The parties run on; the launcher exits when they stop (Ctrl-C: 0, one died: 1).
        return EXIT.ok;
      }),
    );
}
