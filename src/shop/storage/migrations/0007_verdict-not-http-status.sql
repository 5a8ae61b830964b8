-- The shop stores what it decided (the verdict, already a column of each table), never the HTTP status it answered with: the edge derives that from the verdict.
ALTER TABLE "gateway_events" DROP COLUMN "http_status";--> statement-breakpoint
ALTER TABLE "webhook_receipts" DROP COLUMN "http_status";--> statement-breakpoint
ALTER TABLE "webhook_refusal_samples" DROP COLUMN "http_status";