-- Browser sessions for the sessions page: a public id that is safe to show and to name in a
-- request (the id column is the cookie's secret value; an identity is never reused), the
-- client of the sign-in, a throttled last-seen time, and the password stamp the session was
-- signed in under (so a list can leave out sessions a password change has ended).
ALTER TABLE web_sessions ADD COLUMN public_id BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_public_id_key UNIQUE (public_id);
ALTER TABLE web_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE web_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE web_sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE web_sessions ADD COLUMN password_stamp BIGINT;
UPDATE web_sessions SET last_seen_at = updated_at,
    password_stamp = CASE WHEN data::jsonb ? 'pwv' THEN (data::jsonb ->> 'pwv')::bigint END;
ALTER TABLE web_sessions ALTER COLUMN last_seen_at SET NOT NULL;
