-- Nothing in `private` or `admin` is executable by everyone.
--
-- The foundation meant `alter default privileges … in schema private revoke execute … from
-- public` to keep PostgreSQL's default EXECUTE-for-PUBLIC off these functions, but per-schema
-- default privileges can only add to the global defaults, never take away: every function here
-- was executable by any role, e.g. an authenticated user calling private.cancel_booking with the
-- host's id, or private.confirm_booking_payment on their own unpaid hold. Those schemas are not
-- exposed through the Data API, but a direct database session must not be able to either.
-- From here on each function is granted only to the roles that call it (RLS policies and
-- security-invoker wrappers run as the request's role); tests/db/91-function-privileges
-- fails on any function in these schemas that PUBLIC can execute.

revoke execute on all functions in schema private from public;
revoke execute on all functions in schema admin from public;

-- Profile validation runs as whoever writes the row (the owner through the API, the service
-- role, sign-up); as security definer it needs no grants on the username helpers it calls.
alter function private.validate_profile() security definer;

-- public.wallet_balances is a security-invoker view over the caller's own balances; the service
-- role reads it too (and sees none, having no wallet of its own).
grant execute on function private.my_wallet_balances() to service_role;
