-- Which due sessions the sender claims first: 1 for a state that wants a push at
-- once (a permission asked, a turn complete or failed, a /v1/event post waiting
-- for its pushes), 0 for progress. When the sender is behind (a burst of sessions
-- starting), a transition overtakes the backlog of progress updates.
alter table sender_sessions add column claim_priority smallint not null default 0;
drop index sender_sessions_due;
create index sender_sessions_due on sender_sessions (claim_priority desc, due_at) where due_at is not null;
