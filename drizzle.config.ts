// drizzle-kit configuration for one party at a time: DRIZZLE_PARTY=shop|gateway|bank|platform.
// `npm run db:generate` loops over the parties. Each party has one schema and one migration history.
import { defineConfig } from 'drizzle-kit';

const party = process.env.DRIZZLE_PARTY ?? 'platform';
const schema = party === 'platform' ? ['./src/platform/schema.ts'] : [`./src/${party}/storage/schema.ts`];
const out = party === 'platform' ? './src/platform/db/migrations' : `./src/${party}/storage/migrations`;

export default defineConfig({ dialect: 'postgresql', schema, out, casing: undefined });
