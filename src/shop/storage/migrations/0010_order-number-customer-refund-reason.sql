ALTER TABLE "orders" ADD COLUMN "number" serial NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "customer_reason" text DEFAULT 'other' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_number_unique" UNIQUE("number");