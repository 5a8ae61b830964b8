-- pgbench script: the SQL of ONE accepted webhook intake transaction (payment.authorized for an
-- open invoice whose attempt holds the session), statement for statement as the shop runs it —
-- captured with pg_stat_statements while deliveries were applied (src/shop/commands/apply-gateway-event.ts
-- and decide-gateway-event.ts, commands/invoice-transition.ts applyInvoiceEvent, mail/outbox.ts enqueueMail,
-- storage/audit.ts appendAudit, platform/realtime/publish.ts).
-- Reads that lock (FOR UPDATE) are kept: they are part of the cost. The audit entries are inserted
-- unsealed (no chain lock): the sealer's work after the commit is not in this script (the shop pays it,
-- pgbench does not). What the shop computes in Node (ids) is computed here in SQL. pgbench reads
-- `:name` as a variable even inside a string literal, so literal colons are written as ':'.
--
-- Rows come from bench/intake/seed.ts (batch tag :tag, n = 1..:invoices). Each client walks its own
-- ids (client_id, client_id + clients, ...), so transactions never touch the same invoice until the
-- batch wraps around. Run (bench/intake/pgbench.ts does):
--   pgbench -n -M extended -c 8 -j 2 -T 60 -D tag=P -D invoices=N -D clients=8 -D seq=0 \
--           -D amount=<minor> -D currency=EUR -f bench/intake.sql <url>
\set seq :seq + 1
\set n 1 + (:client_id + :clients * :seq) % :invoices
BEGIN;
-- the dedupe row, claimed first
insert into "gateway_events" ("event_id", "session_id", "invoice_id", "status", "sequence", "source", "verdict", "code", "reason", "applied_at")
  values ('evt_' || replace(gen_random_uuid()::text, '-', ''), 'ps_' || :tag::text || :n::text, 'inv_' || :tag::text || :n::text, 'authorized', 3, 'webhook', 'pending', default, default, now())
  on conflict do nothing returning "event_id" as evt \gset
-- decide: the invoice and the session's attempt, locked, in one statement
with "invoice" as (
  select "id", "order_id", "order_version", "user_id", "amount_minor", "currency", "status", "valid", "created_at", "expires_at", "closed_at", "paid_at" from "invoices" where "invoices"."id" = 'inv_' || :tag::text || :n::text for update
)
select "invoice"."id", "invoice"."order_id", "invoice"."order_version", "invoice"."user_id", "invoice"."amount_minor", "invoice"."currency", "invoice"."status", "invoice"."valid", "invoice"."created_at", "invoice"."expires_at", "invoice"."closed_at", "invoice"."paid_at",
       "attempt"."id", "attempt"."invoice_id", "attempt"."status", "attempt"."gateway_session_id", "attempt"."redirect_url", "attempt"."last_sequence", "attempt"."reason", "attempt"."card_brand", "attempt"."card_last4", "attempt"."created_at", "attempt"."updated_at"
  from "invoice" left join lateral (
    select "id", "invoice_id", "status", "gateway_session_id", "redirect_url", "last_sequence", "reason", "card_brand", "card_last4", "created_at", "updated_at" from "payment_attempts" where "payment_attempts"."gateway_session_id" = 'ps_' || :tag::text || :n::text for update
  ) "attempt" on true;
-- applyInvoiceEvent(pay), given the invoice row locked above: the invoice paid and its order locked
-- in one statement; then the order's new status, its outbox event and its job in one (its audit
-- entry is queued)
with "written" as (
  update "invoices" set "status" = 'paid', "valid" = true, "closed_at" = now(), "paid_at" = now() where "invoices"."id" = 'inv_' || :tag::text || :n::text
  returning "id", "order_id", "order_version", "user_id", "amount_minor", "currency", "status", "valid", "created_at", "expires_at", "closed_at", "paid_at"
)
select "written"."id", "written"."order_id", "written"."order_version", "written"."user_id", "written"."amount_minor", "written"."currency", "written"."status", "written"."valid", "written"."created_at", "written"."expires_at", "written"."closed_at", "written"."paid_at",
       "orders"."id", "orders"."number", "orders"."user_id", "orders"."cart_id", "orders"."status", "orders"."currency", "orders"."subtotal_minor", "orders"."delivery_method_id", "orders"."delivery_name", "orders"."delivery_minor", "orders"."total_minor", "orders"."address", "orders"."version", "orders"."created_at", "orders"."updated_at"
  from "written" inner join "orders" on "orders"."id" = "written"."order_id" for update of "orders";
with first_write as (
  update "orders" set "status" = 'paid', "updated_at" = now() where "orders"."id" = 'ord_' || :tag::text || :n::text
), along as (
  insert into "order_status_events" ("id", "seq", "order_id", "invoice_id", "from_status", "to_status", "occurred_at", "payload")
  values ('out_' || :evt::text, default, 'ord_' || :tag::text || :n::text, 'inv_' || :tag::text || :n::text, 'awaiting_payment', 'paid', now(),
          jsonb_build_object('type', 'order.status_changed', 'id', 'out_' || :evt::text, 'orderId', 'ord_' || :tag::text || :n::text, 'invoiceId', 'inv_' || :tag::text || :n::text, 'from', 'awaiting_payment', 'to', 'paid', 'total', jsonb_build_object('minor', :amount::text, 'currency', :currency::text), 'occurredAt', now()))
  returning "id"
), queued as (
  insert into "jobs" (id, task, payload, status, run_at, max_attempts, key, created_at, updated_at)
  select 'job_' || :evt::text, 'shop.order_status.deliver', jsonb_build_object('eventId', 'out_' || :evt::text), 'pending', now(), 10, 'order-status' || ':' || 'out_' || :evt::text, now(), now()
  where exists (select 1 from along)
  on conflict (key) do nothing returning id
)
select (select count(*) from along)::int as wrote, (select count(*) from queued)::int as queued;
-- the receipt owed to the customer: the outbox row (its recipient read from the order's customer) and
-- its send job, in one statement
with along as (
  insert into "shop_mails" (id, kind, subject_id, order_id, invoice_id, recipient, status, message_id, created_at, updated_at)
  select 'mail_' || :evt::text, 'receipt', 'inv_' || :tag::text || :n::text, "orders"."id", 'inv_' || :tag::text || :n::text, "users"."email", 'queued', '<mail_' || :evt::text || '@mail.countersign.shop>', now(), now()
    from "orders" join "users" on "users"."id" = "orders"."user_id" where "orders"."id" = 'ord_' || :tag::text || :n::text
  on conflict (kind, subject_id) do nothing returning id
), queued as (
  insert into "jobs" (id, task, payload, status, run_at, max_attempts, key, created_at, updated_at)
  select 'job_m' || :evt::text, 'shop.mail.send', jsonb_build_object('mailId', 'mail_' || :evt::text), 'pending', now(), 30, 'mail' || ':' || 'receipt' || ':' || 'inv_' || :tag::text || :n::text, now(), now()
  where exists (select 1 from along)
  on conflict (key) do nothing returning id
)
select (select count(*) from along)::int as wrote, (select count(*) from queued)::int as queued;
-- the attempt accepted (its audit entry is queued with the invoice's, see the end)
update "payment_attempts" set "last_sequence" = 3, "card_brand" = 'visa', "card_last4" = '4242', "status" = 'paid', "updated_at" = now() where ("payment_attempts"."id" = 'att_' || :tag::text || :n::text and "payment_attempts"."status" = 'session_created')
  returning "id", "invoice_id", "status", "gateway_session_id", "redirect_url", "last_sequence", "reason", "card_brand", "card_last4", "created_at", "updated_at";
-- the real-time message for the invoice's room (its own advisory lock, NOTIFY at commit)
with room_lock as (
  select pg_advisory_xact_lock(hashtextextended('countersign' || ':' || 'realtime' || ':' || 'invoice' || ':' || 'inv_' || :tag::text || :n::text, 0))
), message as (
  insert into realtime_messages (room, payload, created_at)
  select 'invoice' || ':' || 'inv_' || :tag::text || :n::text, jsonb_build_object('invoiceId', 'inv_' || :tag::text || :n::text, 'status', 'paid', 'attemptId', 'att_' || :tag::text || :n::text, 'attemptStatus', 'paid'), now() from room_lock
  returning id, room, payload
), notification as (
  select id, json_build_object('id', id::text, 'room', room, 'payload', payload)::text as inline_body, json_build_object('id', id::text, 'room', room)::text as reference_body from message
)
select id::text as id, pg_notify('countersign_realtime', case when octet_length(inline_body) <= 7900 then inline_body else reference_body end) as notified from notification;
-- the dedupe row's verdict, and the delivery's receipt, in one statement
with "decided" as (
  update "gateway_events" set "verdict" = 'accepted', "code" = null, "reason" = null where "gateway_events"."event_id" = :evt::text returning "event_id"
)
insert into "webhook_receipts" ("id", "received_at", "event_id", "event_type", "session_id", "invoice_id", "verdict", "reason")
  values (default, now(), :evt::text, 'authorized', 'ps_' || :tag::text || :n::text, 'inv_' || :tag::text || :n::text, 'accepted', null);
-- the audit entries, last (appendAudit queues a transaction's entries and inserts them just before the
-- commit): one insert of both, UNSEALED — no lock, no read of the chain's tip; the shop's sealer
-- (src/shop/audit/sealer.ts) chains them after the commit, outside this transaction; COMMIT
insert into "audit_log" ("seq", "id", "at", "actor", "action", "subject", "data", "chain_pos", "chain_version", "prev_hash", "hash")
  values (default, 'aud_i' || :evt::text, now(), 'gateway', 'invoice.pay', 'inv_' || :tag::text || :n::text,
          jsonb_build_object('from', 'open', 'to', 'paid', 'orderId', 'ord_' || :tag::text || :n::text, 'orderStatus', 'paid'),
          default, default, default, default),
         (default, 'aud_a' || :evt::text, now(), 'gateway', 'attempt.accept', 'att_' || :tag::text || :n::text,
          jsonb_build_object('from', 'session_created', 'to', 'paid', 'invoiceId', 'inv_' || :tag::text || :n::text, 'eventId', :evt::text, 'sequence', 3, 'source', 'webhook'),
          default, default, default, default);
COMMIT;
