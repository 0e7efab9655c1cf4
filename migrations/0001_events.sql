-- The append-only event log. `position` is global; `transaction_id` lets
-- readers deliver events in commit-safe order (see src/eventstore/readAfter.ts).
create table events (
  position bigint generated always as identity primary key,
  transaction_id xid8 not null default pg_current_xact_id(),
  tenant text not null,
  session_id text not null,
  event_id text not null,
  type text not null,
  payload jsonb not null,
  meta jsonb not null default '{}'::jsonb,
  source_time timestamptz not null,
  received_time timestamptz not null default now(),
  constraint events_tenant_event_id unique (tenant, event_id)
);

create index events_reading_order on events (transaction_id, position);
create index events_by_session on events (tenant, session_id, position);
