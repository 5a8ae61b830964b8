// The shop's database schema: one schema and one migration history for this party.
export * from '../../platform/schema.ts';
export * from './tables.ts';
export * from './payment-tables.ts';
export * from '../mail/mail.schema.ts';
export * from './webhook-secret-tables.ts';
export * from './dispute-tables.ts';
