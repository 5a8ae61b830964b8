// A checkpoint anchors the audit chain outside the shop's database: the sealed tip's position (named
// `seq` in the signed format: for entries chained before the sealer it is their seq) and hash and the
// number of entries up to it, at a time, signed with the shop's Ed25519 key. The hash chain alone
// shows an edited or removed entry in the middle, but not entries cut off at the end, nor a chain
// rewritten from scratch with every hash recomputed; a checkpoint kept elsewhere shows both.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

/** The chain's sealed tip at one moment: the entry at position `seq` has `hash`, and `count` entries lead up to it. */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly count: number;
  /** ISO 8601: when the checkpoint was taken. */
  readonly at: string;
}

// Names what the signature is for, so that a signature made with the same key for anything else
// never passes as a checkpoint's.
const PURPOSE = 'countersign:shop:audit-checkpoint:v1';

function signedBytes(c: Checkpoint): Buffer {
  return Buffer.from([PURPOSE, c.seq, c.hash, c.count, c.at].join('\n'));
}

/** A fresh Ed25519 private key, as base64 PKCS#8 DER (one line, for an environment variable). */
export function newAuditSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${what} is a ${key.asymmetricKeyType} key, not Ed25519`);
  return key;
}

/** Reads an Ed25519 private key: PKCS#8 PEM, or base64 PKCS#8 DER. Throws when it is not one. */
export function parseAuditPrivateKey(text: string): KeyObject {
  const value = text.trim();
  const key = value.startsWith('-----')
    ? createPrivateKey(value)
    : createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
  return ed25519(key, 'the signing key');
}

/** Reads an Ed25519 public key: SPKI PEM, or base64 SPKI DER. Throws when it is not one. */
export function parseAuditPublicKey(text: string): KeyObject {
  const value = text.trim();
  const key = value.startsWith('-----')
    ? createPublicKey(value)
    : createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
  return ed25519(key, 'the public key');
}

/** The public half of a key, as base64 SPKI DER (what SHOP_AUDIT_PUBLIC_KEY takes). */
export function publicKeyText(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

/** A short fingerprint of a key's public half, written in each checkpoint and printed by the verifier. */
export function keyId(key: KeyObject): string {
  return createHash('sha256')
    .update(createPublicKey(key).export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** One line of the checkpoint file (JSON, no newline). */
export function signCheckpoint(privateKey: KeyObject, c: Checkpoint): string {
  const sig = sign(null, signedBytes(c), privateKey).toString('base64url');
  return JSON.stringify({ v: 1, seq: c.seq, hash: c.hash, count: c.count, at: c.at, key: keyId(privateKey), sig });
}

const lineSchema = z.object({
  v: z.literal(1),
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  count: z.number().int().nonnegative(),
  at: z.iso.datetime(),
  key: z.string(),
  sig: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
});

/** A line of the checkpoint file read back: a checkpoint whose signature holds, or why it is refused. */
export type CheckedLine =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | { readonly ok: false; readonly reason: string };

/** Parses one line and checks its signature against the shop's public key. */
export function checkCheckpointLine(text: string, publicKey: KeyObject): CheckedLine {
  let parsed: z.infer<typeof lineSchema>;
  try {
    parsed = lineSchema.parse(JSON.parse(text));
  } catch {
    return { ok: false, reason: 'not a checkpoint (malformed line)' };
  }
  const { v: _v, key, sig, ...checkpoint } = parsed;
  if (key !== keyId(publicKey))
    return { ok: false, reason: `signed by key ${key}, not by the shop's key ${keyId(publicKey)}` };
  if (!verify(null, signedBytes(checkpoint), publicKey, Buffer.from(sig, 'base64url')))
    return { ok: false, reason: 'its signature does not match its content (edited or forged)' };
  return { ok: true, checkpoint };
}
