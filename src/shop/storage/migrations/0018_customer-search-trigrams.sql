-- The staff search's "e-mail or name contains the text" (staff-search.ts, containsText), answered by
-- trigram indexes instead of a scan of every customer. pg_trgm ships with PostgreSQL (contrib) and
-- with PGlite, and is a trusted extension: the database's owner may create it. fastupdate off: a new
-- customer's trigrams go into the index at once rather than into a pending list that only a vacuum
-- merges (PGlite runs no autovacuum) and that the planner counts against the index meanwhile.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "users_email_trgm_idx" ON "users" USING gin (lower("email") gin_trgm_ops) WITH (fastupdate = off);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "users_name_trgm_idx" ON "users" USING gin (lower("name") gin_trgm_ops) WITH (fastupdate = off);
