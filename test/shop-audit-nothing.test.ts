// `countersign audit verify` pointed at nothing refuses (exit code 3, could not check) with a clear error, and leaves nothing
// behind: no PGlite directory where none was, no tables in an empty PostgreSQL database.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { databaseUrl } from '../src/platform/db/testing.ts';
import { newAuditSigningKey } from '../src/shop/audit/checkpoint.ts';
import { adminQuery, verifyCommand } from './support/audit.ts';

const SIGNING_KEY = newAuditSigningKey();

describe('countersign audit verify pointed at nothing', () => {
  it('exits 3 with a clear error and does not create the data directory', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'cs-audit-none-'));
    try {
      const places: Array<Record<string, string>> = [
        { DATA_DIR: join(parent, 'nowhere') },
        { SHOP_DATA_DIR: join(parent, 'nowhere', 'shop') },
      ];
      for (const env of places) {
        const { code, out } = await verifyCommand({ ...env, SHOP_AUDIT_SIGNING_KEY: SIGNING_KEY });
        assert.equal(code, 3, out);
        assert.match(
          out,
          /^countersign: could not verify the audit chain: no shop database at .*nowhere.*; nothing was created/m,
        );
        assert.equal(existsSync(join(parent, 'nowhere')), false, 'the verifier created nothing');
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("exits 3 on a PostgreSQL database without the shop's tables, and creates none there", async () => {
    const name = `t_empty_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name}`);
    try {
      const { code, out } = await verifyCommand({ SHOP_DATABASE_URL: databaseUrl(name) });
      assert.equal(code, 3, out);
      assert.match(out, /has no shop audit log/);
      const probe = new pg.Client({ connectionString: databaseUrl(name) });
      await probe.connect();
      const tables = await probe.query(
        `select count(*)::int as n from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`,
      );
      await probe.end();
      assert.equal(tables.rows[0].n, 0, 'no table was created');
    } finally {
      await adminQuery(`drop database if exists ${name}`);
    }
  });
});
