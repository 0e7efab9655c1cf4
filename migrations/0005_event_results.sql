-- event_outcomes now holds only what the steps do not say: an event that reached just
-- its own session (most of them) is told by that one step in session_steps. This view
-- gives every folded event one row, whichever table holds it.
create view event_results as
  select o.position, o.tenant, o.session_id, o.applied, o.reason
  from event_outcomes o
  union all
  select s.position, s.tenant, s.session_id, s.applied, s.reason
  from events e
  join session_steps s on s.tenant = e.tenant and s.session_id = e.session_id and s.position = e.position
  where not exists (select 1 from event_outcomes o where o.position = e.position);
