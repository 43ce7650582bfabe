-- Key lifecycle (issue 7): the lifecycle policy, key templates, and the unused-key marker.
--
-- lifecycle_policies: one row per scope. org_id NULL is the global policy (the only row
-- until organizations exist); a per-org row is added later with org_id set, and the unique
-- index keeps one row per org and one global row.
CREATE TABLE lifecycle_policies (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT,
    max_lifetime_days   BIGINT,
    default_expiry_days BIGINT,
    expiry_required     BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON array of whole days before expiry, e.g. [30,7,1]
    warning_days        TEXT    NOT NULL DEFAULT '[30,7,1]',
    unused_days         BIGINT,
    -- flag | disable (meaningful only with unused_days)
    unused_action       TEXT    NOT NULL DEFAULT 'flag',
    updated_by          BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE UNIQUE INDEX lifecycle_policies_org ON lifecycle_policies (COALESCE(org_id, 0));
INSERT INTO lifecycle_policies (org_id, updated_at) VALUES (NULL, 0);

-- Key templates: presets a key can be created from. Lists and limits are JSON text, as in
-- api_keys. name_seq is the {seq} counter of the naming template (never user-editable).
CREATE TABLE key_templates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        BIGINT,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    scopes        TEXT    NOT NULL DEFAULT '[]',
    tags          TEXT    NOT NULL DEFAULT '[]',
    rate_limits   TEXT,
    quota         TEXT,
    remaining     BIGINT,
    refill        TEXT,
    expiry_days   BIGINT,
    prefix        TEXT,
    api_id        BIGINT  REFERENCES apis (id) ON DELETE SET NULL,
    name_template TEXT,
    name_seq      BIGINT  NOT NULL DEFAULT 0,
    created_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX key_templates_name ON key_templates (COALESCE(org_id, 0), name);

-- When the unused-key scan last acted on the key (flagged or disabled it). It acts again
-- only after the key was used since (last_used_at > unused_flagged_at).
ALTER TABLE api_keys ADD COLUMN unused_flagged_at BIGINT;
CREATE INDEX api_keys_last_used ON api_keys (last_used_at);
