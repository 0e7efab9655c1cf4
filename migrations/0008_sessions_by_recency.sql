-- GET /v1/sessions and `pushline sessions` page newest first by (updated_at, session_id).
create index session_states_by_recency on session_states (tenant, updated_at desc, session_id desc);
create index session_states_by_recency_all on session_states (updated_at desc, tenant desc, session_id desc);
