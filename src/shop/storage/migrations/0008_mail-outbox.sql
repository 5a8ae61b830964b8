CREATE TABLE "shop_mails" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"order_id" text NOT NULL,
	"invoice_id" text,
	"recipient" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"message_id" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "shop_mails" ADD CONSTRAINT "shop_mails_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "shop_mails_kind_subject_idx" ON "shop_mails" USING btree ("kind","subject_id");--> statement-breakpoint
CREATE INDEX "shop_mails_order_idx" ON "shop_mails" USING btree ("order_id","created_at");