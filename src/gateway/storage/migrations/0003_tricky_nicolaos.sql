CREATE TABLE "signed_requests" (
	"request_id" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "signed_requests_received_idx" ON "signed_requests" USING btree ("received_at");