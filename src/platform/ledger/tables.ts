// The columns and constraints every ledger's two tables share (the rules of src/core/ledger.ts kept by
// the database too); each ledger adds its own columns — who owns an account and its flags, what a
// transfer refers to.
//
// Balances are stored on the account rows, updated in the transaction of the transfer that moves
// them, under the rows' locks (record.ts takes them in id order): reading a balance is one row, not a
// sum over every transfer ever made. `ledger verify` recomputes every balance from the transfers.
import { sql } from 'drizzle-orm';
import { type AnyPgColumn, bigint, check, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { TransferPhase } from '../../core/ledger.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true });
const total = (name: string) => bigint(name, { mode: 'bigint' }).notNull().default(sql`0`);

/** An account's id (derived from what it is, so a transfer names it without a lookup), currency and four totals. */
export function accountColumns() {
  return {
    id: text('id').primaryKey(),
    currency: text('currency').notNull(),
    debitsPending: total('debits_pending'),
    debitsPosted: total('debits_posted'),
    creditsPending: total('credits_pending'),
    creditsPosted: total('credits_posted'),
    createdAt: ts('created_at').notNull(),
  };
}

type Totals = Record<'debitsPending' | 'debitsPosted' | 'creditsPending' | 'creditsPosted', AnyPgColumn>;

/** No total is ever below zero (a negative balance is the difference of two totals, never a total). */
export function accountConstraints(table: string, t: Totals) {
  return [
    check(
      `${table}_totals_not_negative`,
      sql`${t.debitsPending} >= 0 and ${t.debitsPosted} >= 0 and ${t.creditsPending} >= 0 and ${t.creditsPosted} >= 0`,
    ),
  ];
}

/** A transfer's columns; `self` and `accounts` are the ledger's own tables (for the references). */
export function transferColumns<Kind extends string>(
  accounts: () => { id: AnyPgColumn },
  self: () => { id: AnyPgColumn },
) {
  return {
    // Derived from what it records (auth_<session>, hold_<authorisation>…): the id is the idempotency key.
    id: text('id').primaryKey(),
    debitAccountId: text('debit_account_id')
      .notNull()
      .references(() => accounts().id),
    creditAccountId: text('credit_account_id')
      .notNull()
      .references(() => accounts().id),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    kind: text('kind').$type<Kind>().notNull(),
    phase: text('phase').$type<TransferPhase>().notNull(),
    // The pending transfer a post or void resolves: unique, so it is resolved once, whoever races.
    pendingId: text('pending_id').references((): AnyPgColumn => self().id),
    createdAt: ts('created_at').notNull(),
  };
}

type TransferShape = Record<'pendingId' | 'amountMinor' | 'debitAccountId' | 'creditAccountId' | 'phase', AnyPgColumn>;

/** A pending transfer resolved once; a positive amount between two accounts; a pending id exactly on a post or void. */
export function transferConstraints(table: string, t: TransferShape) {
  return [
    uniqueIndex(`${table}_resolved_once`).on(t.pendingId).where(sql`${t.pendingId} is not null`),
    check(`${table}_amount_positive`, sql`${t.amountMinor} > 0`),
    check(`${table}_two_accounts`, sql`${t.debitAccountId} <> ${t.creditAccountId}`),
    check(`${table}_pending_id_iff_resolving`, sql`(${t.phase} in ('post', 'void')) = (${t.pendingId} is not null)`),
  ];
}
