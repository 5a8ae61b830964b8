// The launcher behind `countersign start` (`npm start` calls it): runs the shop, the gateway and the
// bank as three processes (or those of `--only`), each on its own port with its own database, wired
// to each other through configuration. Secrets the parties share (the demo merchant's API key and
// webhook secret, the gateway's key at the bank) are generated at first start into <DATA_DIR>/secrets.json (mode 0600) and handed to each process in its environment, never by hand.
// Ctrl-C stops all three cleanly: each closes its server, finishes its jobs and closes its database.
// `npm start -- --tls` serves all three over https with a local CA made at first start into
// <DATA_DIR>/tls, and each party verifies the others' certificates against that CA.
import { runnable, type Runnable } from './platform/compiled.ts';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DataDirInUseError, lockDataDir } from './platform/db/data-dir-lock.ts';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { newWebhookSecret } from './core/webhook-signature.ts';
import { DEMO_DASHBOARD_OWNER } from './gateway/domain/dashboard-account.rule.ts';
import { newAuditSigningKey } from './shop/audit/checkpoint.ts';
import { launchCatcher } from './shop/mail/launch-catcher.ts';
import { isMain, parseServiceBase } from './platform/service.ts';

const PARTIES = [
  { name: 'bank', port: 3002 },
  { name: 'gateway', port: 3001 },
  { name: 'shop', port: 3000 },
] as const;

// V8 flags for each party's process (the memory budget: <= 150 MB resident per service). The heap
// flags bound the JavaScript heap. `--liftoff-only` keeps PGlite's WebAssembly on V8's baseline
// compiler: tiering PostgreSQL's hot functions up to TurboFan cost ~50 MB resident per process and,
// on two cores, the CPU that a starting system needs (a bare PGlite idle 180 -> 131 MB; `npm start`
// warm ready in 2.1-2.9 s instead of 4.8; 40,000 statements as fast either way, bench/README.md). A
// party on PostgreSQL runs no WebAssembly: the flag changes nothing there.
export const PARTY_V8_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=192', '--liftoff-only'];

// glibc raises its mmap threshold to the size of the largest block freed (up to 32 MB), after which
// the 16 MB blocks of each scrypt password check come from malloc arenas that never shrink: a burst of
// logins left the shop near 230 MB resident. A fixed threshold keeps such blocks mmapped, returned at
// free (shop under load 230 -> 123 MB). The caller's environment may override it.
const PARTY_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

export interface Secrets {
  demoMerchantApiKey: string;
  demoMerchantWebhookSecret: string;
  /** The demo merchant's Stripe-dialect secret key at our gateway (`sk_test_…`), for SHOP_GATEWAY=stripe. */
  demoMerchantStripeApiKey: string;
  /** The signing secret of the shop's Stripe webhook endpoint at our gateway (`whsec_…`). */
  demoMerchantStripeWebhookSecret: string;
  bankGatewayKey: string;
  bankCallbackSecret: string;
  shopSessionSecret: string;
  /** The shop's Ed25519 key that signs its audit checkpoints (base64 PKCS#8). */
  shopAuditSigningKey: string;
  /** The bearer token of the shop's operator API /ops (`countersign reconcile`, `countersign doctor`). */
  shopOperatorToken: string;
}

/** A fresh set of the secrets the parties share (the launcher keeps its set in data/secrets.json). */
export function newSecrets(): Secrets {
  return {
    demoMerchantApiKey: `sk_test_${randomBytes(24).toString('base64url')}`,
    demoMerchantWebhookSecret: newWebhookSecret(),
    demoMerchantStripeApiKey: `sk_test_${randomBytes(24).toString('base64url')}`,
    demoMerchantStripeWebhookSecret: `whsec_${randomBytes(32).toString('base64url')}`,
    bankGatewayKey: newWebhookSecret(),
    bankCallbackSecret: newWebhookSecret(),
    shopSessionSecret: randomBytes(32).toString('base64url'),
    shopAuditSigningKey: newAuditSigningKey(),
    shopOperatorToken: `ops_${randomBytes(32).toString('base64url')}`,
  };
}

function loadSecrets(dataDir: string): Secrets {
  const file = join(dataDir, 'secrets.json');
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : {};
  // A file from an older version lacks the secrets added since: they are generated once, kept after.
  const fresh = newSecrets();
  const secrets = { ...fresh, ...existing };
  if (Object.keys(fresh).every((k) => k in existing)) return secrets;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** The environment each party's process gets: its own settings plus how to reach the others. */
export function partyEnvironments(env: NodeJS.ProcessEnv, secrets: Secrets): Record<string, NodeJS.ProcessEnv> {
  const url = (name: string, port: number) => parseServiceBase(name, port, env).publicUrl;
  const shopUrl = url('shop', 3000);
  const gatewayUrl = url('gateway', 3001);
  const bankUrl = url('bank', 3002);
  const links = {
    SHOP_PUBLIC_URL: shopUrl,
    GATEWAY_PUBLIC_URL: gatewayUrl,
    BANK_PUBLIC_URL: bankUrl,
    // The shop is the gateway's demo merchant; the gateway is the bank's acquirer.
    GATEWAY_DEMO_MERCHANT_API_KEY: secrets.demoMerchantApiKey,
    GATEWAY_DEMO_MERCHANT_WEBHOOK_SECRET: secrets.demoMerchantWebhookSecret,
    GATEWAY_DEMO_MERCHANT_WEBHOOK_URL: `${shopUrl}/webhooks/gateway`,
    SHOP_GATEWAY_URL: gatewayUrl,
    SHOP_GATEWAY_API_KEY: secrets.demoMerchantApiKey,
    SHOP_GATEWAY_WEBHOOK_SECRETS: secrets.demoMerchantWebhookSecret,
    // The same merchant in Stripe's dialect: SHOP_GATEWAY=stripe alone switches the shop over.
    GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY: secrets.demoMerchantStripeApiKey,
    GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_SECRET: secrets.demoMerchantStripeWebhookSecret,
    GATEWAY_DEMO_MERCHANT_STRIPE_WEBHOOK_URL: `${shopUrl}/webhooks/stripe`,
    SHOP_STRIPE_SECRET_KEY: secrets.demoMerchantStripeApiKey,
    SHOP_STRIPE_WEBHOOK_SECRETS: secrets.demoMerchantStripeWebhookSecret,
    SHOP_STRIPE_API_URL: gatewayUrl,
    SHOP_SESSION_SECRET: secrets.shopSessionSecret,
    SHOP_AUDIT_SIGNING_KEY: secrets.shopAuditSigningKey,
    SHOP_OPERATOR_TOKEN: secrets.shopOperatorToken,
    GATEWAY_BANK_URL: bankUrl,
    GATEWAY_BANK_KEY: secrets.bankGatewayKey,
    BANK_GATEWAY_KEY: secrets.bankGatewayKey,
    BANK_GATEWAY_CALLBACK_URL: `${gatewayUrl}/bank/callbacks`,
    BANK_CALLBACK_SECRET: secrets.bankCallbackSecret,
    GATEWAY_BANK_CALLBACK_SECRET: secrets.bankCallbackSecret,
  };
  // Explicit settings in the caller's environment win over the generated wiring.
  const merged = { ...links, ...env };
  return Object.fromEntries(PARTIES.map((p) => [p.name, merged]));
}

/** What `countersign start` (and `npm start`, which calls it) asks the launcher for. */
export interface StartOptions {
  /** The parties to run (default all three); `gateway,bank` is the emulator for an existing integration. */
  readonly only?: readonly PartyName[];
  /** Serve all three over https with a local CA. */
  readonly tls?: boolean;
  /** Settings for the parties (ports, SHOP_GATEWAY, DATA_DIR); they win over the process environment. */
  readonly env?: Record<string, string>;
}

export type PartyName = (typeof PARTIES)[number]['name'];
export const PARTY_NAMES: readonly PartyName[] = PARTIES.map((p) => p.name);

/** With --tls: the local CA and server certificate (made once, reused), as the parties' TLS variables. */
async function tlsEnvironment(
  dataDir: string,
  tls: boolean,
): Promise<{ env: Record<string, string>; caFile?: string }> {
  if (!tls) return { env: {} };
  // Loaded only here: the plain start does not pay for the certificate library.
  const dev = await import('./platform/dev-certificates.ts');
  const files = await dev.ensureDevCertificates(join(dataDir, 'tls'));
  return { env: dev.devTlsEnvironment(files), caFile: files.caFile };
}

/** COUNTERSIGN_CPU_PROF_DIR (the bench's --cpu-prof): each party writes a V8 CPU profile there when it stops. */
function profileFlags(name: PartyName, env: NodeJS.ProcessEnv): string[] {
  const dir = env.COUNTERSIGN_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [];
}

/** Forks one party; resolves with its URL once it says it serves, rejects if it exits first. */
function forkParty(
  name: PartyName,
  entry: Runnable,
  env: NodeJS.ProcessEnv,
  logDir: string,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): { child: ChildProcess; ready: Promise<string> } {
  const child = fork(entry.file, [], {
    env: { ...PARTY_MALLOC_ENV, ...env },
    // A small young generation and a bounded old one keep each service's resident memory near
    // its live heap (default V8 sizing let an idle shop sit near 200 MB); see bench/README.md.
    execArgv: [...entry.execArgv, ...PARTY_V8_FLAGS, ...profileFlags(name, env)],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Ctrl-C reaches the launcher, which stops the children in order; they must not die first.
    detached: true,
  });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  // JSON log lines go to the party's log file; anything else (the service line, errors) to the terminal.
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.startsWith('{')) log.write(`${line}\n`);
      else if (!line.startsWith(`${name.padEnd(8)} http`)) console.error(`[${name}] ${line}`);
    });
  }
  const ready = new Promise<string>((done, fail) => {
    child.on('message', (m) => {
      const msg = m as { type?: string; url?: string };
      if (msg.type === 'ready' && msg.url) done(msg.url);
    });
    child.on('exit', (code, signal) => {
      fail(new Error(`${name} exited (${signal ?? code}) before it was ready; see ${join(logDir, `${name}.log`)}`));
      onExit(code, signal);
    });
  });
  return { child, ready };
}

/** Without the shop, the gateway must not deliver the demo merchant's webhooks to a shop that is not there. */
function withoutAbsentShop(
  envs: Record<string, NodeJS.ProcessEnv>,
  only: readonly PartyName[],
  callerEnv: NodeJS.ProcessEnv,
): void {
  if (only.includes('shop') || callerEnv.GATEWAY_DEMO_MERCHANT_WEBHOOK_URL) return;
  const gateway = { ...envs.gateway };
  delete gateway.GATEWAY_DEMO_MERCHANT_WEBHOOK_URL;
  envs.gateway = gateway;
}

/** What a developer pointing an existing integration at the emulator needs (`start --only gateway,bank`). */
function emulatorInstructions(gatewayUrl: string, bankUrl: string | undefined, env: NodeJS.ProcessEnv): string {
  const stripeKey = env.GATEWAY_DEMO_MERCHANT_STRIPE_API_KEY;
  const key = stripeKey ?? env.GATEWAY_DEMO_MERCHANT_API_KEY ?? '';
  return [
    '',
    `API base URL     ${gatewayUrl}/v1`,
    `test secret key  ${key}  (${stripeKey ? "Stripe dialect: give it to Stripe's SDK with host/port of the URL above" : 'native API'})`,
    ...(bankUrl ? [`bank app         ${bankUrl} (approvals for test card 4000 0025 0000 3155)`] : []),
    'test cards       4242 4242 4242 4242 approved · 4000 0000 0000 0002 declined · 4000 0000 0000 9995 insufficient funds',
    `fault injection  PUT ${gatewayUrl}/v1/admin/fault_injection (see /openapi.json)`,
    'webhooks         register an endpoint:',
    `                   curl ${gatewayUrl}/v1/webhook_endpoints -u ${stripeKey ? '<the key above>' : '<a Stripe-dialect key>'}: -d url=https://your-app.example/webhooks -d "enabled_events[]=*"`,
    "                 or forward this merchant's events to a local URL, signed:",
    `                   npx countersign listen --forward-to http://localhost:4242/webhooks --gateway-url ${gatewayUrl}`,
  ].join('\n');
}

/**
 * Takes DATA_DIR for this launcher before anything in it is touched (secrets, certificates, logs, the
 * parties' databases), so that a second start on the same directory stops at once with a clear
 * message instead of starting a mail catcher and parties that then fail on the databases in use.
 * The lock is `<DATA_DIR>/launcher.lock` (see data-dir-lock: a dead launcher's lock is taken over).
 */
function claimDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  try {
    return lockDataDir(join(dataDir, 'launcher'));
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    throw new Error(
      `${dataDir} is in use by another start (process ${err.pid}): stop that one first (Ctrl-C there), or point DATA_DIR elsewhere`,
    );
  }
}

/**
 * The launcher: runs the parties asked for (all three by default) as processes, each on its own port
 * with its own database, prints each one's URL and "ready in", and stops them all on Ctrl-C.
 * Returns once they serve (resolves with the URLs); a party that stops unexpectedly stops the others
 * and exits 1.
 */
export async function main(options: StartOptions = {}): Promise<Record<string, string>> {
  const callerEnv = { ...process.env, ...options.env };
  const only = options.only ?? PARTY_NAMES;
  const parties = PARTIES.filter((p) => only.includes(p.name));
  const dataDir = resolve(callerEnv.DATA_DIR ?? './data');
  const releaseDataDir = claimDataDir(dataDir);
  const secrets = loadSecrets(dataDir);
  const tls = await tlsEnvironment(dataDir, options.tls ?? false);
  // mail: without SHOP_SMTP_URL, a local mail catcher with a web inbox receives the shop's mail.
  const mail = callerEnv.SHOP_SMTP_URL || !only.includes('shop') ? undefined : await launchCatcher(callerEnv);
  // The caller's own TLS variables win over the generated ones, as every other setting does.
  const envs = partyEnvironments(
    { ...tls.env, ...(mail ? { SHOP_SMTP_URL: mail.smtpUrl } : {}), ...callerEnv, DATA_DIR: dataDir },
    secrets,
  );
  withoutAbsentShop(envs, only, callerEnv);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const started = Date.now();
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  if (mail) children.set('mail', mail.child);
  const names = parties.map((p) => p.name).join(', ');

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`stopping ${names}…`);
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      ),
    );
    console.log('stopped: servers closed, jobs finished, databases closed.');
    releaseDataDir();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // One after the other: the first resolves (and if need be builds) the compiled tree, the others reuse it.
  const entries: Runnable[] = [];
  for (const party of parties) entries.push(await runnable(`${party.name}/main.ts`, callerEnv));
  const ready = parties.map((party, i) => {
    const { child, ready } = forkParty(party.name, entries[i]!, envs[party.name]!, logDir, (code, signal) => {
      if (stopping) return;
      console.error(`${party.name} stopped unexpectedly (${signal ?? code}); stopping the others.`);
      void stopAll(1);
    });
    children.set(party.name, child);
    return ready;
  });
  try {
    const urls: Record<string, string> = {};
    (await Promise.all(ready)).forEach((url, i) => (urls[parties[i]!.name] = url));
    parties.forEach((p) => console.log(`${p.name.padEnd(8)} ${urls[p.name]}`));
    if (mail) console.log(`mail     ${mail.inboxUrl} (inbox; the shop sends to ${mail.smtpUrl})`);
    if (urls.gateway && envs.gateway?.GATEWAY_DEMO_MERCHANT_API_KEY) {
      const owner = envs.gateway.GATEWAY_DEMO_MERCHANT_DASHBOARD_PASSWORD
        ? `${envs.gateway.GATEWAY_DEMO_MERCHANT_DASHBOARD_EMAIL ?? DEMO_DASHBOARD_OWNER.email} (password: GATEWAY_DEMO_MERCHANT_DASHBOARD_PASSWORD)`
        : `${DEMO_DASHBOARD_OWNER.email} / ${DEMO_DASHBOARD_OWNER.password}`;
      console.log(`dashboard ${urls.gateway}/dashboard — log in as ${owner}, or sign up a merchant of your own`);
    }
    if (tls.caFile)
      console.log(await import('./platform/dev-certificates.ts').then((dev) => dev.trustInstructions(tls.caFile!)));
    if (!only.includes('shop') && urls.gateway)
      console.log(emulatorInstructions(urls.gateway, urls.bank, envs.gateway!));
    const open = urls.shop ? `open the shop at ${urls.shop}` : `${names} running`;
    console.log(
      `ready in ${((Date.now() - started) / 1000).toFixed(1)} s — ${open} (logs in ${logDir}; Ctrl-C stops ${parties.length === 3 ? 'all three' : names})`,
    );
    return urls;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    await stopAll(1);
    throw err;
  }
}

// Imported (the crash matrix reuses partyEnvironments), it must not launch the system.
if (isMain(import.meta.url)) void main({ tls: process.argv.slice(2).includes('--tls') });
