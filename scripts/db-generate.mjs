#!/usr/bin/env node
// Generates drizzle migrations for each party whose schema changed (drizzle-kit generate).
// Usage: npm run db:generate [-- party ...]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const all = ['platform', 'shop', 'gateway', 'bank'];
const parties = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const party of parties) {
  if (party !== 'platform' && !existsSync(`src/${party}/storage/schema.ts`)) continue;
  const r = spawnSync('npx', ['drizzle-kit', 'generate', '--config', 'drizzle.config.ts'], {
    stdio: 'inherit',
    env: { ...process.env, DRIZZLE_PARTY: party },
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
