-- What replay needs of each APNs answer that the log does not hold: APNs'
-- Retry-After, the jitter the sender drew for the backoff, and when the answer
-- was known. With them, replay settles every attempt as the live sender did.
alter table deliveries add column retry_after_ms double precision;
alter table deliveries add column jitter double precision;
alter table deliveries add column answered_at_ms bigint;

-- Stored states are now read through versioned schemas (domain/): stamp the
-- rows written before, whose shape is version 1 but for the field itself.
update session_states set state = state || '{"version": 1}'::jsonb where not state ? 'version';
update tenant_registrations set state = state || '{"version": 1}'::jsonb where not state ? 'version';
update sender_sessions
  set memory = memory || '{"version": 1, "noTokenTurn": 0, "stepFailures": 0}'::jsonb
  where memory ? 'targets' and not memory ? 'version';
