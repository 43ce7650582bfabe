//! Notification preferences: for each event type in the [`CATALOG`], which channels a user
//! hears it on. Only choices that differ from the defaults are stored, so a new event type
//! reaches everyone with its default and nobody's choice is lost when a default changes.
//! The event dispatch asks [`channels_for`] once per recipient and event.

use crate::app::notification_types::{
    CHANNELS, NotificationPreference, NotificationPreferences, UpdateNotificationPreferences,
};
use crate::db::{self, Db, notification_prefs::PrefChange};
use crate::domain::{Timestamp, db_failure, to_millis};
use crate::error::{AppError, AppResult, FieldError};

pub use crate::app::notification_types::{CATALOG, Channels, EventType, event_type};

/// A `?kind=` filter of the notification list: an event type, or a family (`security.*`,
/// `key.*`). `None` when it names nothing in the catalog.
pub fn kind_filter(kind: &str) -> Option<KindFilter> {
    if let Some(family) = kind.strip_suffix(".*") {
        let prefix = format!("{family}.");
        return CATALOG
            .iter()
            .any(|e| e.kind.starts_with(&prefix))
            .then_some(KindFilter::Prefix(prefix));
    }
    event_type(kind).map(|e| KindFilter::Exact(e.kind))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KindFilter {
    Exact(&'static str),
    /// Kinds starting with this (it ends with a dot).
    Prefix(String),
}

/// The channels `kind` reaches, given the stored choices.
fn resolve(e: &EventType, stored: &[db::notification_prefs::PrefRow]) -> Channels {
    let mut channels = e.defaults;
    for row in stored.iter().filter(|r| r.kind == e.kind) {
        channels.set(&row.channel, row.enabled);
    }
    if e.email_locked {
        channels.email = true;
    }
    channels
}

/// Where `user_id` hears of an event of `kind`. For security notices `email` is false: the
/// account-security code mailed its own notice already (it cannot be turned off), and a
/// second mail about the same change would be noise. An unknown kind gets in-app only, so
/// nothing emitted is ever lost silently.
pub async fn channels_for(db: &Db, user_id: i64, kind: &str) -> AppResult<Channels> {
    let Some(e) = event_type(kind) else {
        tracing::warn!(kind, "an event type missing from the notification catalog");
        return Ok(Channels {
            in_app: true,
            email: false,
            webhook: false,
        });
    };
    let stored = db::notification_prefs::for_kind(db, user_id, kind)
        .await
        .map_err(db_failure)?;
    let mut channels = resolve(e, &stored);
    if e.email_locked {
        channels.email = false;
    }
    Ok(channels)
}

/// The whole matrix for `user_id`.
pub async fn preferences(db: &Db, user_id: i64) -> AppResult<NotificationPreferences> {
    let stored = db::notification_prefs::list(db, user_id)
        .await
        .map_err(db_failure)?;
    Ok(NotificationPreferences {
        items: CATALOG
            .iter()
            .map(|e| NotificationPreference {
                kind: e.kind.into(),
                label: e.label.into(),
                description: e.description.into(),
                group: e.group.into(),
                channels: resolve(e, &stored),
                defaults: e.defaults,
                locked: if e.email_locked {
                    vec!["email".into()]
                } else {
                    Vec::new()
                },
            })
            .collect(),
    })
}

/// At most this much of a caller's unknown name is repeated in an error.
const ECHO_CHARS: usize = 60;

fn echo(text: &str) -> String {
    let short: String = text.chars().take(ECHO_CHARS).collect();
    short.escape_default().to_string()
}

/// Checks a partial update against the catalog; every unknown type or channel is named.
fn changes_of(input: &UpdateNotificationPreferences) -> AppResult<Vec<PrefChange<'static>>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for (kind, channels) in &input.preferences {
        let Some(e) = event_type(kind) else {
            errors.push(FieldError {
                field: format!("body.preferences.{}", echo(kind)),
                message: "is not an event type (see GET /api/v1/notification-preferences)".into(),
            });
            continue;
        };
        for (channel, &enabled) in channels {
            let Some(&name) = CHANNELS.iter().find(|c| **c == channel.as_str()) else {
                errors.push(FieldError {
                    field: format!("body.preferences.{}.{}", e.kind, echo(channel)),
                    message: "is not a channel: use in_app, email or webhook".into(),
                });
                continue;
            };
            if e.email_locked && name == "email" && !enabled {
                errors.push(FieldError {
                    field: format!("body.preferences.{}.email", e.kind),
                    message: "security notices are always mailed".into(),
                });
                continue;
            }
            // Equal to the default: forget the choice, so the default applies from now on.
            let default = e.defaults.get(name).unwrap_or(false);
            changes.push(PrefChange {
                kind: e.kind,
                channel: name,
                enabled: (enabled != default).then_some(enabled),
            });
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(AppError::validation(errors))
    }
}

/// Applies a partial update (all of it or, on any unknown name, none) and returns the matrix.
pub async fn update(
    db: &Db,
    user_id: i64,
    input: &UpdateNotificationPreferences,
    now: Timestamp,
) -> AppResult<NotificationPreferences> {
    let changes = changes_of(input)?;
    db::notification_prefs::save(db, user_id, &changes, to_millis(now))
        .await
        .map_err(db_failure)?;
    preferences(db, user_id).await
}

/// The portal's form: every catalog row is on the page, so a channel absent from the
/// checked ones is off. `checked` holds (event type, channel) pairs; unknown ones are refused.
pub async fn replace_from_form(
    db: &Db,
    user_id: i64,
    checked: &[(String, String)],
    now: Timestamp,
) -> AppResult<NotificationPreferences> {
    let mut input = UpdateNotificationPreferences::default();
    for e in CATALOG {
        let row = input.preferences.entry(e.kind.to_string()).or_default();
        for c in CHANNELS {
            let locked = e.email_locked && c == "email";
            row.insert(c.to_string(), locked);
        }
    }
    for (kind, channel) in checked {
        match input.preferences.get_mut(kind) {
            Some(row) if row.contains_key(channel) => {
                row.insert(channel.clone(), true);
            }
            _ => {
                input
                    .preferences
                    .entry(kind.clone())
                    .or_default()
                    .insert(channel.clone(), true);
            }
        }
    }
    update(db, user_id, &input, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn input(pairs: &[(&str, &str, bool)]) -> UpdateNotificationPreferences {
        let mut preferences: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
        for (k, c, on) in pairs {
            preferences
                .entry(k.to_string())
                .or_default()
                .insert(c.to_string(), *on);
        }
        UpdateNotificationPreferences { preferences }
    }

    #[test]
    fn the_catalog_has_unique_kinds_and_sensible_defaults() {
        let kinds: std::collections::HashSet<_> = CATALOG.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.len(), CATALOG.len());
        assert!(
            CATALOG
                .iter()
                .all(|e| e.defaults.in_app && e.defaults.webhook)
        );
        let mailed: Vec<_> = CATALOG
            .iter()
            .filter(|e| e.defaults.email)
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            mailed,
            [
                "key.expiring",
                "key.expired",
                "security.password_changed",
                "security.2fa_changed",
                "security.recovery_codes"
            ]
        );
    }

    #[test]
    fn choices_equal_to_the_default_are_forgotten() {
        let changes = changes_of(&input(&[
            ("key.created", "email", true),
            ("key.created", "in_app", true),
            ("key.expiring", "email", false),
        ]))
        .unwrap();
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.kind, c.channel, c.enabled))
            .collect();
        assert_eq!(
            got,
            [
                ("key.created", "email", Some(true)),
                ("key.created", "in_app", None),
                ("key.expiring", "email", Some(false)),
            ]
        );
    }

    #[test]
    fn unknown_types_and_channels_are_named_and_nothing_applies() {
        let err = changes_of(&input(&[
            ("key.created", "email", true),
            ("key.nope", "email", true),
            ("key.created", "sms", true),
            ("security.2fa_changed", "email", false),
        ]))
        .unwrap_err();
        let fields: Vec<_> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "body.preferences.key.created.sms",
                "body.preferences.key.nope",
                "body.preferences.security.2fa_changed.email",
            ]
        );
        let long = "<script>".repeat(100);
        let err = changes_of(&input(&[(&long, "email", true)])).unwrap_err();
        assert!(err.errors[0].field.chars().count() < 100);
    }

    #[test]
    fn filters_name_types_or_families() {
        assert_eq!(
            kind_filter("key.expiring"),
            Some(KindFilter::Exact("key.expiring"))
        );
        assert_eq!(
            kind_filter("security.*"),
            Some(KindFilter::Prefix("security.".into()))
        );
        assert_eq!(kind_filter("nope.*"), None);
        assert_eq!(kind_filter("key.nope"), None);
        assert_eq!(kind_filter("%"), None);
    }

    #[test]
    fn stored_choices_override_defaults_but_not_locks() {
        let row = |kind: &str, channel: &str, enabled| db::notification_prefs::PrefRow {
            kind: kind.into(),
            channel: channel.into(),
            enabled,
        };
        let e = event_type("key.created").unwrap();
        let got = resolve(
            e,
            &[
                row("key.created", "email", true),
                row("key.rotated", "in_app", false),
            ],
        );
        assert_eq!(
            got,
            Channels {
                in_app: true,
                email: true,
                webhook: true
            }
        );
        let s = event_type("security.2fa_changed").unwrap();
        assert!(resolve(s, &[row("security.2fa_changed", "email", false)]).email);
    }
}
