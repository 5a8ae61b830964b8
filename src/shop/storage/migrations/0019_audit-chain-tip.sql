CREATE TABLE "audit_chain_tip" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"pos" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_chain_tip_one_row" CHECK ("audit_chain_tip"."one")
);
--> statement-breakpoint
-- Written by hand: the tip starts where the sealed chain ends (position 0 and the genesis hash when
-- nothing is sealed yet).
INSERT INTO "audit_chain_tip" ("one", "pos", "hash")
SELECT true,
       coalesce((SELECT "chain_pos" FROM "audit_log" WHERE "chain_pos" IS NOT NULL ORDER BY "chain_pos" DESC LIMIT 1), 0),
       coalesce((SELECT "hash" FROM "audit_log" WHERE "chain_pos" IS NOT NULL ORDER BY "chain_pos" DESC LIMIT 1), repeat('0', 64));
