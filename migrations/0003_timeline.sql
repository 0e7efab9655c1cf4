-- What each event did to each session it touched: applied or ignored (why), and the
-- content-state the phone would show after it. The timeline reads this; a rebuild rewrites it.
create table session_steps (
  tenant text not null,
  session_id text not null,
  position bigint not null,
  applied boolean not null,
  reason text,
  content_state jsonb,
  primary key (tenant, session_id, position)
);

-- One row per time the sender planned a session and found something to send or to hold:
-- the state and registrations it planned on (by log position), its clock, and its decisions
-- (send, throttled, permission-grace, retry-backoff). Replay re-plans at these moments.
create table sender_runs (
  id bigint generated always as identity primary key,
  tenant text not null,
  session_id text not null,
  session_position bigint not null,
  registrations_position bigint,
  planned_at_ms bigint not null,
  settings jsonb not null,
  decisions jsonb not null
);
create index sender_runs_by_session on sender_runs (tenant, session_id, id);

alter table deliveries add column run_id bigint;
