ALTER TABLE "api_keys" ADD COLUMN "api" text DEFAULT 'native' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "api" text DEFAULT 'native' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "capture_method" text DEFAULT 'on_acknowledgement' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "stripe" jsonb;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "stripe" jsonb;