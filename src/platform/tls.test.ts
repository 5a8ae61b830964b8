import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config.ts';
import { freshDatabase } from './db/testing.ts';
import { ensureDevCertificates, type DevCertificateFiles } from './dev-certificates.ts';
import { outboundFetch } from './http/outbound.ts';
import { createLogger } from './log.ts';
import { bootService, parseServiceBase, type ServiceHandle } from './service.ts';

const spec = { name: 'platform', migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)) };

describe('TLS', () => {
  let dir: string;
  let ours: DevCertificateFiles;
  let theirs: DevCertificateFiles;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-tls-'));
    ours = await ensureDevCertificates(join(dir, 'ours'));
    theirs = await ensureDevCertificates(join(dir, 'theirs'));
  });

  after(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(env: Record<string, string>): Promise<ServiceHandle> {
    const database = await freshDatabase(spec, 'pglite');
    const handle = await bootService({
      name: 'test',
      spec,
      base: parseServiceBase('test', 0, { TEST_PORT: '0', ...env }),
      database,
      log: createLogger('test', 'silent'),
      compose: ({ app }) => {
        app.get('/', (c) => c.text('hello'));
        return {};
      },
    });
    stops.push(async () => {
      await handle.stop();
    });
    return handle;
  }

  describe('configuration', () => {
    it('refuses a certificate without its key, naming the missing variable', () => {
      assert.throws(
        () => parseServiceBase('shop', 3000, { SHOP_TLS_CERT_FILE: ours.certFile }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /SHOP_TLS_KEY_FILE: must be set together with SHOP_TLS_CERT_FILE/.test(err.message),
      );
      assert.throws(
        () => parseServiceBase('bank', 3002, { BANK_TLS_KEY_FILE: ours.keyFile }),
        /BANK_TLS_CERT_FILE: must be set together/,
      );
    });

    it('names the variable whose file cannot be read or holds no certificate', () => {
      assert.throws(
        () =>
          parseServiceBase('gateway', 3001, {
            GATEWAY_TLS_CERT_FILE: join(dir, 'missing.pem'),
            GATEWAY_TLS_KEY_FILE: ours.keyFile,
          }),
        (err: unknown) =>
          err instanceof ConfigError &&
          /GATEWAY_TLS_CERT_FILE: cannot read .*missing\.pem \(ENOENT\)/.test(err.message),
      );
      assert.throws(
        () => parseServiceBase('shop', 3000, { COUNTERSIGN_CA_FILE: ours.keyFile }),
        /COUNTERSIGN_CA_FILE: .* holds no PEM CERTIFICATE/,
      );
    });

    it('refuses a key that does not fit the certificate', () => {
      assert.throws(
        () => parseServiceBase('shop', 3000, { SHOP_TLS_CERT_FILE: ours.certFile, SHOP_TLS_KEY_FILE: theirs.keyFile }),
        /SHOP_TLS_CERT_FILE, SHOP_TLS_KEY_FILE: the key does not fit the certificate/,
      );
    });

    it('defaults the public URL to https when serving TLS, and prefers the party CA over COUNTERSIGN_CA_FILE', () => {
      const base = parseServiceBase('shop', 3000, {
        SHOP_TLS_CERT_FILE: ours.certFile,
        SHOP_TLS_KEY_FILE: ours.keyFile,
        SHOP_TLS_CA_FILE: theirs.caFile,
        COUNTERSIGN_CA_FILE: ours.caFile,
      });
      assert.equal(base.publicUrl, 'https://127.0.0.1:3000');
      assert.equal(base.tls.ca, readFileSync(theirs.caFile, 'utf8'));
      assert.equal(parseServiceBase('shop', 3000, {}).publicUrl, 'http://127.0.0.1:3000');
    });

    it('reuses the CA and the server certificate on a later start', async () => {
      const before = readFileSync(ours.caFile, 'utf8') + readFileSync(ours.certFile, 'utf8');
      await ensureDevCertificates(join(dir, 'ours'));
      assert.equal(readFileSync(ours.caFile, 'utf8') + readFileSync(ours.certFile, 'utf8'), before);
    });
  });

  describe('serving and calling', () => {
    let secure: ServiceHandle;
    let plain: ServiceHandle;

    before(async () => {
      secure = await boot({ TEST_TLS_CERT_FILE: ours.certFile, TEST_TLS_KEY_FILE: ours.keyFile });
      plain = await boot({});
    });

    it('serves https with HSTS on every answer, and plain http without it', async () => {
      assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const client = outboundFetch(readFileSync(ours.caFile, 'utf8'));
      for (const path of ['/', '/healthz', '/nowhere']) {
        assert.equal(
          (await client(`${secure.url}${path}`)).headers.get('strict-transport-security'),
          'max-age=31536000',
          path,
        );
      }
      assert.match(plain.url, /^http:\/\//);
      const res = await fetch(`${plain.url}/`);
      assert.equal(await res.text(), 'hello');
      assert.equal(res.headers.get('strict-transport-security'), null);
    });

    it('the outbound client trusts the configured CA and refuses a certificate from any other', async () => {
      // Both ways out: fetch, and node:http for what fits it (redirects not followed).
      for (const init of [{}, { redirect: 'manual' } as const]) {
        const trusting = outboundFetch(readFileSync(ours.caFile, 'utf8'));
        assert.equal(await (await trusting(`${secure.url}/`, init)).text(), 'hello');
        const wrong = outboundFetch(readFileSync(theirs.caFile, 'utf8'));
        await assert.rejects(wrong(`${secure.url}/`, init), (err: Error) =>
          /certificate|issuer/i.test(String((err.cause as Error | undefined)?.message ?? err.message)),
        );
        // Without a CA: the public roots only.
        await assert.rejects(outboundFetch(undefined)(`${secure.url}/`, init));
      }
    });
  });
});
