CREATE TABLE "gateway_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"invoice_id" text NOT NULL,
	"status" text NOT NULL,
	"sequence" integer NOT NULL,
	"source" text NOT NULL,
	"verdict" text NOT NULL,
	"http_status" integer NOT NULL,
	"code" text,
	"reason" text,
	"applied_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_receipts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"event_id" text,
	"event_type" text,
	"session_id" text,
	"invoice_id" text,
	"verdict" text NOT NULL,
	"http_status" integer NOT NULL,
	"reason" text
);
--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "redirect_url" text;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "last_sequence" integer DEFAULT -1 NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD COLUMN "reason" text;--> statement-breakpoint
CREATE INDEX "gateway_events_session_idx" ON "gateway_events" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "webhook_receipts_invoice_idx" ON "webhook_receipts" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "webhook_receipts_received_idx" ON "webhook_receipts" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_session_idx" ON "payment_attempts" USING btree ("gateway_session_id");--> statement-breakpoint
CREATE INDEX "payment_attempts_status_idx" ON "payment_attempts" USING btree ("status","updated_at");