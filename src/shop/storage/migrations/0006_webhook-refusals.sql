CREATE TABLE "webhook_refusal_samples" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"address" text NOT NULL,
	"http_status" integer NOT NULL,
	"headers" jsonb NOT NULL,
	"body" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_refusal_sources" (
	"slot" integer PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"last_address" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_refusals" (
	"bucket" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"count" bigint NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_refusals_bucket_reason_pk" PRIMARY KEY("bucket","reason")
);
--> statement-breakpoint
CREATE INDEX "webhook_refusal_samples_bucket_idx" ON "webhook_refusal_samples" USING btree ("bucket","reason");