// Where and how the shop anchors its audit chain (SHOP_AUDIT_*), for the shop and for the verifier.
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEnv, positiveInt } from '../../platform/config.ts';
import { parseAuditPrivateKey, parseAuditPublicKey } from './checkpoint.ts';

/** How long an entry may wait for its seal before the verifier reports it (SHOP_AUDIT_SEAL_STALE_SECONDS). */
export const DEFAULT_SEAL_STALE_SECONDS = 60;

/** The shop's checkpoint and sealer settings. */
export interface AuditCheckpointConfig {
  /** How often the sealer looks for committed entries to seal, in milliseconds. */
  readonly sealIntervalMs: number;
  /** Entries unsealed for longer are reported by the verifier. */
  readonly sealStaleSeconds: number;
  /** Directory of the checkpoint file: outside the database, ideally on other storage. */
  readonly dir: string;
  readonly everySeconds: number;
  /** Without a key the shop writes no checkpoints (and says so at start). */
  readonly signingKey: KeyObject | undefined;
}

const parses = (parse: (text: string) => unknown) => (text: string | undefined) => {
  if (text === undefined) return true;
  try {
    parse(text);
    return true;
  } catch {
    return false;
  }
};

const shape = {
  // `npm start` generates one into data/secrets.json.
  SHOP_AUDIT_SIGNING_KEY: z
    .string()
    .optional()
    .refine(parses(parseAuditPrivateKey), 'must be an Ed25519 private key: PKCS#8 PEM or base64 DER'),
  SHOP_AUDIT_CHECKPOINT_DIR: z.string().min(1).optional(),
  SHOP_AUDIT_CHECKPOINT_SECONDS: positiveInt(60),
  SHOP_AUDIT_SEAL_INTERVAL_MS: positiveInt(50),
  SHOP_AUDIT_SEAL_STALE_SECONDS: positiveInt(DEFAULT_SEAL_STALE_SECONDS),
  DATA_DIR: z.string().min(1).default('./data'),
};

/**
 * Parses SHOP_AUDIT_SIGNING_KEY, SHOP_AUDIT_CHECKPOINT_DIR (default $DATA_DIR/audit-checkpoints),
 * SHOP_AUDIT_CHECKPOINT_SECONDS, SHOP_AUDIT_SEAL_INTERVAL_MS (50) and SHOP_AUDIT_SEAL_STALE_SECONDS (60).
 */
export function loadAuditConfig(env: Record<string, string | undefined> = process.env): AuditCheckpointConfig {
  const raw = parseEnv('shop', shape, env);
  return Object.freeze({
    dir: raw.SHOP_AUDIT_CHECKPOINT_DIR ?? join(raw.DATA_DIR, 'audit-checkpoints'),
    everySeconds: raw.SHOP_AUDIT_CHECKPOINT_SECONDS,
    sealIntervalMs: raw.SHOP_AUDIT_SEAL_INTERVAL_MS,
    sealStaleSeconds: raw.SHOP_AUDIT_SEAL_STALE_SECONDS,
    signingKey: raw.SHOP_AUDIT_SIGNING_KEY === undefined ? undefined : parseAuditPrivateKey(raw.SHOP_AUDIT_SIGNING_KEY),
  });
}

/** What the verifier needs: the checkpoint directory and the key that checks the signatures. */
export interface AuditVerifierConfig {
  readonly dir: string;
  readonly publicKey: KeyObject | undefined;
  /** Where the key came from, for the verifier's output. */
  readonly keySource: string;
  /** Entries unsealed for longer are reported as a problem. */
  readonly sealStaleSeconds: number;
}

/**
 * The verifier's settings: the checkpoints where the shop writes them; the key from
 * SHOP_AUDIT_PUBLIC_KEY (an auditor holds only that), else the shop's SHOP_AUDIT_SIGNING_KEY, else the
 * one `npm start` generated into $DATA_DIR/secrets.json.
 */
export function loadAuditVerifierConfig(env: Record<string, string | undefined> = process.env): AuditVerifierConfig {
  const shop = loadAuditConfig(env);
  const raw = parseEnv(
    'shop',
    {
      SHOP_AUDIT_PUBLIC_KEY: z
        .string()
        .optional()
        .refine(parses(parseAuditPublicKey), 'must be an Ed25519 public key: SPKI PEM or base64 DER'),
    },
    env,
  );
  if (raw.SHOP_AUDIT_PUBLIC_KEY !== undefined)
    return Object.freeze({
      dir: shop.dir,
      sealStaleSeconds: shop.sealStaleSeconds,
      publicKey: parseAuditPublicKey(raw.SHOP_AUDIT_PUBLIC_KEY),
      keySource: 'SHOP_AUDIT_PUBLIC_KEY',
    });
  if (shop.signingKey)
    return Object.freeze({
      dir: shop.dir,
      sealStaleSeconds: shop.sealStaleSeconds,
      publicKey: shop.signingKey,
      keySource: 'SHOP_AUDIT_SIGNING_KEY',
    });
  const secrets = join(env.DATA_DIR ?? './data', 'secrets.json');
  const launcherKey = existsSync(secrets)
    ? (JSON.parse(readFileSync(secrets, 'utf8')) as { shopAuditSigningKey?: string }).shopAuditSigningKey
    : undefined;
  if (launcherKey)
    return Object.freeze({
      dir: shop.dir,
      sealStaleSeconds: shop.sealStaleSeconds,
      publicKey: parseAuditPrivateKey(launcherKey),
      keySource: secrets,
    });
  return Object.freeze({
    dir: shop.dir,
    sealStaleSeconds: shop.sealStaleSeconds,
    publicKey: undefined,
    keySource: 'none',
  });
}
