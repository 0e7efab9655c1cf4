-- A push whose token its registered environment refused (BadDeviceToken,
-- BadEnvironmentKeyInToken) is resent once to the other one; `environment`
-- is the one that answered, this what the registered one said first.
alter table deliveries add column environment_fallback jsonb;
