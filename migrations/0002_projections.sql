-- Projection state, written with its checkpoint in one transaction.
create table projector_checkpoints (
  projector text primary key,
  transaction_id xid8 not null,
  position bigint not null,
  updated_at timestamptz not null default now()
);

-- Per-session fold state (content-state, lifecycle, ...), as the fold left it.
create table session_states (
  tenant text not null,
  session_id text not null,
  state jsonb not null,
  last_position bigint not null,
  updated_at timestamptz not null default now(),
  primary key (tenant, session_id)
);

-- Per-tenant registrations (device tokens, activity tokens, invalidations).
create table tenant_registrations (
  tenant text primary key,
  state jsonb not null,
  last_position bigint not null,
  updated_at timestamptz not null default now()
);

-- What the fold made of each event: applied, or ignored and why (for the timeline).
create table event_outcomes (
  position bigint primary key,
  tenant text not null,
  session_id text not null,
  applied boolean not null,
  reason text
);
create index event_outcomes_by_session on event_outcomes (tenant, session_id, position);

-- The sender's memory per session (throttle window, grace, last state sent per token)
-- and when it next has something to do. Lives here so a restart keeps the trailing push.
create table sender_sessions (
  tenant text not null,
  session_id text not null,
  memory jsonb not null default '{}'::jsonb,
  due_at timestamptz,
  -- bumped whenever the projector marks the session due, so a sender that
  -- finishes an older claim does not clear a newer mark
  version bigint not null default 0,
  caused_by bigint,
  -- the newest log position whose pushes have been attempted
  settled_position bigint,
  updated_at timestamptz not null default now(),
  primary key (tenant, session_id)
);
create index sender_sessions_due on sender_sessions (due_at) where due_at is not null;

-- Every APNs attempt and its answer.
create table deliveries (
  id bigint generated always as identity primary key,
  tenant text not null,
  session_id text not null,
  caused_by bigint,
  token text not null,
  environment text not null,
  push_type text not null,
  event text not null,
  priority integer not null,
  headers jsonb not null,
  payload jsonb not null,
  status integer,
  reason text,
  apns_id text,
  latency_ms double precision,
  outcome text not null,
  attempted_at timestamptz not null default now()
);
create index deliveries_by_session on deliveries (tenant, session_id, id);
