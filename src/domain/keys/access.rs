//! Who may read and change which keys: the one place key permissions are decided, so single
//! operations, lists and bulk operations agree.
//!
//! A key is personal (`org_id` NULL, belongs to its owner) or belongs to an organization.
//! Global admins see and change every key; a global viewer only reads. Inside an org, every
//! member reads the org's keys; owners and admins change all of them; members change the org
//! keys they own; org viewers only read.

use super::Actor;
use crate::app::types::OrgRole;
use crate::db::{Db, keys::KeyRow, keys::KeyScope};
use crate::error::AppResult;

#[derive(Clone, Debug)]
pub struct KeyAccess {
    pub user_id: i64,
    /// A global admin or super admin.
    pub admin: bool,
    /// A global viewer: reads what they may see, changes nothing.
    pub viewer: bool,
    /// The orgs the user belongs to, with their role in each.
    pub orgs: Vec<(i64, OrgRole)>,
}

impl KeyAccess {
    /// The actor's key permissions. Org memberships are read fresh on every request, so a
    /// removed member loses access at once.
    pub async fn load(db: &Db, actor: &Actor) -> AppResult<KeyAccess> {
        let orgs = crate::db::orgs::memberships(db, actor.user.id.0)
            .await
            .map_err(crate::domain::db_failure)?
            .into_iter()
            .filter_map(|(id, role)| Some((id, OrgRole::parse(&role)?)))
            .collect();
        Ok(KeyAccess {
            user_id: actor.user.id.0,
            admin: actor.user.role.is_admin(),
            viewer: actor.user.role == crate::app::types::Role::Viewer,
            orgs,
        })
    }

    /// Whether the actor may create keys owned by `org_id`: owners, admins and members (not
    /// org viewers); global admins in any org.
    pub fn can_create_in(&self, org_id: i64) -> bool {
        !self.viewer
            && (self.admin
                || matches!(self.org_role(org_id), Some(role) if role != OrgRole::Viewer))
    }

    pub fn org_role(&self, org_id: i64) -> Option<OrgRole> {
        self.orgs
            .iter()
            .find_map(|&(id, role)| (id == org_id).then_some(role))
    }

    pub fn can_read(&self, row: &KeyRow) -> bool {
        if self.admin {
            return true;
        }
        match row.org_id {
            None => row.owner_user_id == self.user_id,
            Some(org) => self.org_role(org).is_some(),
        }
    }

    pub fn can_write(&self, row: &KeyRow) -> bool {
        if self.viewer {
            return false;
        }
        if self.admin {
            return true;
        }
        match row.org_id {
            None => row.owner_user_id == self.user_id,
            Some(org) => match self.org_role(org) {
                Some(role) if role.manages() => true,
                Some(OrgRole::Member) => row.owner_user_id == self.user_id,
                _ => false,
            },
        }
    }

    /// The keys a list may show this actor.
    pub fn scope(&self) -> KeyScope {
        if self.admin {
            KeyScope::Everyone
        } else {
            KeyScope::Of {
                user_id: self.user_id,
                org_ids: self.orgs.iter().map(|&(id, _)| id).collect(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::keys::TrafficColumns;

    fn key(owner: i64, org: Option<i64>) -> KeyRow {
        KeyRow {
            id: 1,
            key_hash: String::new(),
            prefix: "kp".into(),
            last4: "abcd".into(),
            name: "k".into(),
            description: String::new(),
            scopes: "[]".into(),
            tags: "[]".into(),
            metadata: "{}".into(),
            ip_allowlist: "[]".into(),
            allowed_origins: "[]".into(),
            owner_user_id: owner,
            org_id: org,
            api_id: None,
            created_by: None,
            enabled: true,
            created_at: 0,
            updated_at: 0,
            expires_at: None,
            revoked_at: None,
            rotated_to_id: None,
            last_used_at: None,
            traffic: TrafficColumns::default(),
        }
    }

    fn access(orgs: Vec<(i64, OrgRole)>) -> KeyAccess {
        KeyAccess {
            user_id: 7,
            admin: false,
            viewer: false,
            orgs,
        }
    }

    #[test]
    fn personal_keys_are_their_owners() {
        let me = access(vec![]);
        assert!(me.can_read(&key(7, None)) && me.can_write(&key(7, None)));
        assert!(!me.can_read(&key(8, None)) && !me.can_write(&key(8, None)));
        let viewer = KeyAccess {
            viewer: true,
            ..access(vec![])
        };
        assert!(viewer.can_read(&key(7, None)) && !viewer.can_write(&key(7, None)));
        let admin = KeyAccess {
            admin: true,
            ..access(vec![])
        };
        assert!(admin.can_write(&key(8, Some(3))));
        assert_eq!(admin.scope(), KeyScope::Everyone);
    }

    #[test]
    fn org_roles_decide_org_keys() {
        let others_key = key(8, Some(3));
        let my_key = key(7, Some(3));
        for (role, read, write_others, write_mine) in [
            (OrgRole::Owner, true, true, true),
            (OrgRole::Admin, true, true, true),
            (OrgRole::Member, true, false, true),
            (OrgRole::Viewer, true, false, false),
        ] {
            let a = access(vec![(3, role)]);
            assert_eq!(a.can_read(&others_key), read, "{role:?}");
            assert_eq!(a.can_write(&others_key), write_others, "{role:?}");
            assert_eq!(a.can_write(&my_key), write_mine, "{role:?}");
            // Membership elsewhere gives nothing here; owning a key in an org one has left
            // gives nothing either.
            let elsewhere = access(vec![(4, role)]);
            assert!(!elsewhere.can_read(&my_key) && !elsewhere.can_write(&my_key));
        }
        assert_eq!(
            access(vec![(3, OrgRole::Viewer)]).scope(),
            KeyScope::Of {
                user_id: 7,
                org_ids: vec![3]
            }
        );
    }
}
