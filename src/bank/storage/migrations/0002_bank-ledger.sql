CREATE TABLE "bank_ledger_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"owner" text NOT NULL,
	"currency" text NOT NULL,
	"never_negative" boolean NOT NULL,
	"debits_pending" bigint DEFAULT 0 NOT NULL,
	"debits_posted" bigint DEFAULT 0 NOT NULL,
	"credits_pending" bigint DEFAULT 0 NOT NULL,
	"credits_posted" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_ledger_accounts_totals_not_negative" CHECK ("bank_ledger_accounts"."debits_pending" >= 0 and "bank_ledger_accounts"."debits_posted" >= 0 and "bank_ledger_accounts"."credits_pending" >= 0 and "bank_ledger_accounts"."credits_posted" >= 0),
	CONSTRAINT "bank_ledger_accounts_never_negative" CHECK (not "bank_ledger_accounts"."never_negative" or "bank_ledger_accounts"."debits_pending" + "bank_ledger_accounts"."debits_posted" <= "bank_ledger_accounts"."credits_posted")
);
--> statement-breakpoint
CREATE TABLE "bank_ledger_transfers" (
	"id" text PRIMARY KEY NOT NULL,
	"debit_account_id" text NOT NULL,
	"credit_account_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"kind" text NOT NULL,
	"phase" text NOT NULL,
	"pending_id" text,
	"ref" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "bank_ledger_transfers_amount_positive" CHECK ("bank_ledger_transfers"."amount_minor" > 0),
	CONSTRAINT "bank_ledger_transfers_two_accounts" CHECK ("bank_ledger_transfers"."debit_account_id" <> "bank_ledger_transfers"."credit_account_id"),
	CONSTRAINT "bank_ledger_transfers_pending_id_iff_resolving" CHECK (("bank_ledger_transfers"."phase" in ('post', 'void')) = ("bank_ledger_transfers"."pending_id" is not null))
);
--> statement-breakpoint
ALTER TABLE "bank_ledger_transfers" ADD CONSTRAINT "bank_ledger_transfers_debit_account_id_bank_ledger_accounts_id_fk" FOREIGN KEY ("debit_account_id") REFERENCES "public"."bank_ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_ledger_transfers" ADD CONSTRAINT "bank_ledger_transfers_credit_account_id_bank_ledger_accounts_id_fk" FOREIGN KEY ("credit_account_id") REFERENCES "public"."bank_ledger_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_ledger_transfers" ADD CONSTRAINT "bank_ledger_transfers_pending_id_bank_ledger_transfers_id_fk" FOREIGN KEY ("pending_id") REFERENCES "public"."bank_ledger_transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bank_ledger_transfers_resolved_once" ON "bank_ledger_transfers" USING btree ("pending_id") WHERE "bank_ledger_transfers"."pending_id" is not null;--> statement-breakpoint
CREATE INDEX "bank_ledger_transfers_ref_idx" ON "bank_ledger_transfers" USING btree ("ref");--> statement-breakpoint
-- Transfers are immutable, in the database too: a mistake is corrected by a new transfer, never by an edit.
CREATE FUNCTION "bank_ledger_transfers_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'bank ledger transfers are immutable (% refused)', TG_OP;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "bank_ledger_transfers_immutable" BEFORE UPDATE OR DELETE ON "bank_ledger_transfers" FOR EACH ROW EXECUTE FUNCTION "bank_ledger_transfers_immutable"();
