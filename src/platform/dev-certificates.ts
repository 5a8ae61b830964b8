// `npm start -- --tls`: a local certificate authority and one server certificate for 127.0.0.1, ::1
// and localhost, made at first start into <DATA_DIR>/tls and reused afterwards, so that a browser told
// once to trust the CA keeps trusting it. Node 20 has no API to create X.509 certificates; @peculiar/x509
// builds them over WebCrypto (ECDSA P-256), with nothing taken from the machine (no openssl binary).
import { createHash, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

/** Where the launcher's CA and server certificate live. */
export interface DevCertificateFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;
// A server certificate lives a year: within what browsers accept of any certificate (macOS: 825 days).
const SERVER_DAYS = 365;
const CA_DAYS = 10 * 365;
// Renewed this long before it expires, at a start.
const RENEW_DAYS = 30;

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

function filesIn(dir: string): DevCertificateFiles & { caKeyFile: string } {
  return {
    caFile: join(dir, 'ca.pem'),
    caKeyFile: join(dir, 'ca-key.pem'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server-key.pem'),
  };
}

/** A random positive serial (the high bit clear so it stays positive in DER). */
function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function newAuthority(now: Date): Promise<{ pem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=countersign local development CA, O=countersign',
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { pem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function newServerCertificate(
  caPem: string,
  caKeyPem: string,
  now: Date,
): Promise<{ pem: string; keyPem: string }> {
  const ca = new x509.X509Certificate(caPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(caKeyPem), ALGORITHM, false, [
    'sign',
  ]);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost, O=countersign',
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + SERVER_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // Served as a chain with the CA: a client can then match the CA by its key without holding it first
  // (Chromium's --ignore-certificate-errors-spki-list looks only at the certificates the server sends).
  return { pem: `${cert.toString('pem')}\n${caPem}`, keyPem: await privateKeyPem(keys.privateKey) };
}

/** True when `pem` is valid for at least `days` more days (and, for a server certificate, signed by `caPem`). */
function fresh(pem: string, now: Date, days: number, caPem?: string): boolean {
  const cert = new NodeCertificate(pem);
  if (new Date(cert.validTo).getTime() < now.getTime() + days * DAY_MS) return false;
  return caPem === undefined || cert.verify(new NodeCertificate(caPem).publicKey);
}

function readIfPresent(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** Makes (or reuses) the CA and the server certificate in `dir`; keys are written mode 0600. */
export async function ensureDevCertificates(dir: string, now: Date = new Date()): Promise<DevCertificateFiles> {
  const files = filesIn(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let caPem = readIfPresent(files.caFile);
  let caKeyPem = readIfPresent(files.caKeyFile);
  if (caPem === undefined || caKeyPem === undefined || !fresh(caPem, now, RENEW_DAYS)) {
    ({ pem: caPem, keyPem: caKeyPem } = await newAuthority(now));
    writeFileSync(files.caKeyFile, caKeyPem, { mode: 0o600 });
    writeFileSync(files.caFile, caPem);
  }
  const serverPem = readIfPresent(files.certFile);
  if (serverPem === undefined || !existsSync(files.keyFile) || !fresh(serverPem, now, RENEW_DAYS, caPem)) {
    const server = await newServerCertificate(caPem, caKeyPem, now);
    writeFileSync(files.keyFile, server.keyPem, { mode: 0o600 });
    writeFileSync(files.certFile, server.pem);
  }
  return { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile };
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what Chromium's --ignore-certificate-errors-spki-list takes. */
export function spkiHash(pem: string): string {
  const spki = new NodeCertificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The environment that makes all three parties serve this certificate and trust this CA. */
export function devTlsEnvironment(files: DevCertificateFiles): Record<string, string> {
  const env: Record<string, string> = { COUNTERSIGN_CA_FILE: files.caFile };
  for (const party of ['SHOP', 'GATEWAY', 'BANK']) {
    env[`${party}_TLS_CERT_FILE`] = files.certFile;
    env[`${party}_TLS_KEY_FILE`] = files.keyFile;
  }
  return env;
}

/** What to do once so that a browser trusts the demo's pages (printed by `npm start -- --tls`). */
export function trustInstructions(caFile: string): string {
  return [
    `HTTPS with a local CA made for this machine: ${caFile}`,
    'To open the pages without a warning, trust that CA once (for development only; remove it when done):',
    `  Chromium/Chrome: Settings > Privacy and security > Security > Manage certificates > Authorities > Import ${caFile}, tick "Trust this certificate for identifying websites"`,
    `  Firefox:         Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import ${caFile}, tick "Trust this CA to identify websites"`,
    `  macOS:           sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${caFile}`,
    `  Debian/Ubuntu:   sudo cp ${caFile} /usr/local/share/ca-certificates/countersign-dev-ca.crt && sudo update-ca-certificates`,
    'Or click past the browser warning ("Advanced" > "Proceed to 127.0.0.1"); the three services verify each other against this CA either way.',
  ].join('\n');
}
