-- The database itself enforces what the code promises: an invoice's terms never change and invoices
-- are never deleted (only status, valid, closed_at and paid_at move); order lines are frozen; the
-- audit log is append-only.
CREATE FUNCTION shop_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on % is not allowed: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE FUNCTION shop_invoice_terms_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.order_id IS DISTINCT FROM OLD.order_id
     OR NEW.order_version IS DISTINCT FROM OLD.order_version OR NEW.user_id IS DISTINCT FROM OLD.user_id
     OR NEW.amount_minor IS DISTINCT FROM OLD.amount_minor OR NEW.currency IS DISTINCT FROM OLD.currency
     OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
    RAISE EXCEPTION 'invoice % is immutable: only its status may change', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER invoices_terms_frozen BEFORE UPDATE ON invoices FOR EACH ROW EXECUTE FUNCTION shop_invoice_terms_frozen();
--> statement-breakpoint
CREATE TRIGGER invoices_never_deleted BEFORE DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION shop_refuse_change('invoices are never deleted');
--> statement-breakpoint
CREATE TRIGGER order_lines_frozen BEFORE UPDATE OR DELETE ON order_lines FOR EACH ROW EXECUTE FUNCTION shop_refuse_change('order lines are frozen at ordering');
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION shop_refuse_change('the audit log is append-only');
--> statement-breakpoint
CREATE TRIGGER products_never_deleted BEFORE DELETE ON products FOR EACH ROW EXECUTE FUNCTION shop_refuse_change('products are archived, never deleted');
