-- Organizations (issue 8 part 3): orgs, their members with a role, and invitations by a
-- single-use mailed link. api_keys.org_id (0002) points at orgs.id; it stays a plain column
-- (no foreign key added to an existing table) and deleting an org is refused while it owns
-- keys that are not revoked (domain rule), so no key is orphaned.
CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    slug        TEXT    NOT NULL UNIQUE,
    created_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE org_members (
    org_id      BIGINT  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at  BIGINT  NOT NULL,
    UNIQUE (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

-- Only the SHA-256 of an invitation token is stored; the link is mailed once.
CREATE TABLE org_invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      BIGINT  NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    token_hash  TEXT    NOT NULL UNIQUE,
    invited_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    accepted_at BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX org_invitations_org ON org_invitations (org_id);
