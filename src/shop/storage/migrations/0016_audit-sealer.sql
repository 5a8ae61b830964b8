ALTER TABLE "audit_log" ALTER COLUMN "prev_hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_log" ALTER COLUMN "hash" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "chain_pos" bigint;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "chain_version" smallint;--> statement-breakpoint
-- Written by hand from here on. Entries chained before the sealer keep their hashes: version 1, their
-- position their seq (so the checkpoints signed before this migration, which name seqs, still hold).
-- The append-only trigger is replaced by one that also allows the sealing of an unsealed entry, and
-- nothing else; it is off while the old entries get their position.
DROP TRIGGER "audit_log_append_only" ON "audit_log";--> statement-breakpoint
UPDATE "audit_log" SET "chain_pos" = "seq", "chain_version" = 1;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_chain_pos_idx" ON "audit_log" USING btree ("chain_pos");--> statement-breakpoint
CREATE INDEX "audit_log_unsealed_idx" ON "audit_log" USING btree ("seq") WHERE hash is null;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_sealed_whole" CHECK ((chain_pos is null and chain_version is null and prev_hash is null and hash is null) or (chain_pos is not null and chain_version is not null and prev_hash is not null and hash is not null));--> statement-breakpoint
CREATE FUNCTION shop_audit_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'DELETE on audit_log is not allowed: the audit log is append-only' USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.hash IS NOT NULL THEN
    RAISE EXCEPTION 'audit entry % is sealed: the audit log is append-only', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  IF NEW.hash IS NULL OR NEW.seq IS DISTINCT FROM OLD.seq OR NEW.id IS DISTINCT FROM OLD.id
     OR NEW.at IS DISTINCT FROM OLD.at OR NEW.actor IS DISTINCT FROM OLD.actor
     OR NEW.action IS DISTINCT FROM OLD.action OR NEW.subject IS DISTINCT FROM OLD.subject
     OR NEW.data IS DISTINCT FROM OLD.data THEN
    RAISE EXCEPTION 'audit entry %: sealing sets its position and hashes, nothing else', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION shop_audit_seal_only();
