// The gateway's database schema: one schema and one migration history for this party.
export * from '../../platform/schema.ts';
export * from './tables.ts';
export * from './stripe-tables.ts';
export * from './account-tables.ts';
export * from './ledger-tables.ts';
export * from './dispute-tables.ts';
export * from './payout-tables.ts';
