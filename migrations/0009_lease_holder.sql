-- Which relay holds a session's lease: the key of the advisory lock that relay holds for
-- as long as it runs (src/sender/SenderInstance.ts). A lease whose holder's lock is free
-- belongs to a relay that died, and is taken at once instead of when it expires.
alter table sender_sessions add column leased_by integer;
