-- When the account's email address was confirmed through a mailed link (NULL: not yet).
-- Accounts that exist already count as confirmed: they were made before there was anything
-- to confirm; the first admin (setup or KEYPORT_ADMIN_EMAIL) is confirmed when created.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;
