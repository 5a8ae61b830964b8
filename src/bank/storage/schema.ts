// The bank's database schema: one schema and one migration history for this party.
export * from '../../platform/schema.ts';
export * from './tables.ts';
export * from './ledger-tables.ts';
