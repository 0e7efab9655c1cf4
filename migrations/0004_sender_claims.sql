-- Which due sessions the sender claims first: 1 for a state that wants a push at
-- once (a permission asked, a turn complete or failed, a /v1/event post waiting
-- for its pushes), 0 for progress. When the sender is behind (a burst of sessions
-- starting), a transition overtakes the backlog of progress updates.
alter table sender_sessions add column claim_priority smallint not null default 0;
drop index sender_sessions_due;
create index sender_sessions_due on sender_sessions (claim_priority desc, due_at) where due_at is not null;

-- A claim is a lease apart from when the session is due: the projector may make a
-- claimed session due now (a transition landed), and a second claim before the
-- first is released would let two handlers push to one token out of order. The
-- lease expires by itself when its relay dies.
alter table sender_sessions add column leased_until timestamptz;
