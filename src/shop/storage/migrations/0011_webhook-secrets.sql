CREATE TABLE "webhook_secret_rotations" (
	"idempotency_key" text PRIMARY KEY NOT NULL,
	"overlap_seconds" integer NOT NULL,
	"requested_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_secrets" (
	"secret" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"rotation_key" text,
	"added_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone,
	CONSTRAINT "webhook_secrets_rotation_key_unique" UNIQUE("rotation_key")
);
--> statement-breakpoint
ALTER TABLE "webhook_secrets" ADD CONSTRAINT "webhook_secrets_rotation_key_webhook_secret_rotations_idempotency_key_fk" FOREIGN KEY ("rotation_key") REFERENCES "public"."webhook_secret_rotations"("idempotency_key") ON DELETE no action ON UPDATE no action;