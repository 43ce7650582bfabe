//! Mail: one [`Mailer::send`] for every message. It renders the template (text and HTML) and
//! queues the message in the outbox (sealed: a body may hold a one-time link), then wakes the
//! sender job, which delivers it within moments and retries with backoff while the mail
//! server is away ([`outbox`]). Without `KEYPORT_SMTP_URL`, messages are written as `.eml`
//! files under `<data dir>/mail/`.

pub mod events;
pub mod outbox;
pub mod templates;
mod transport;

pub use templates::{EventNotice, Mail, Notice, Recipient};

use crate::app::types::User;
use crate::config::Config;
use crate::db::{self, Db};
use crate::domain::{Timestamp, crypto::Keys, db_failure, to_millis};
use crate::error::AppResult;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// Binds sealed bodies to the outbox: a body copied elsewhere does not open.
const SEAL_CONTEXT: &[u8] = b"keyport/mail-outbox/v1";

/// The text and HTML of a queued message, sealed together.
#[derive(Serialize, Deserialize)]
struct StoredBody {
    text: String,
    html: String,
}

pub struct Mailer {
    from: Mailbox,
    public_url: String,
    transport: transport::Transport,
    keys: Arc<Keys>,
    wake: Notify,
    /// Work started for requests that answer before it ends (so their timing tells nothing);
    /// shutdown and tests wait for it.
    background: watch::Sender<usize>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the transport itself: the SMTP URL may carry credentials.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("transport", &self.transport.describe())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("{0}")]
    Invalid(String),
}

impl Mailer {
    pub fn from_config(config: &Config, keys: Arc<Keys>) -> Result<Self, MailSetupError> {
        let from = config
            .mail_from
            .parse::<Mailbox>()
            .map_err(|_| MailSetupError::Invalid("KEYPORT_MAIL_FROM is not a mailbox".into()))?;
        let transport = match &config.smtp_url {
            Some(url) => {
                transport::Transport::smtp(url.expose()).map_err(MailSetupError::Invalid)?
            }
            None => transport::Transport::Files(config.data_dir.join("mail")),
        };
        Ok(Self {
            from,
            public_url: config.public_url.trim_end_matches('/').to_string(),
            transport,
            keys,
            wake: Notify::new(),
            background: watch::Sender::new(0),
        })
    }

    /// Where messages go, for the start-up log: `smtp://host:port` (never credentials) or the
    /// folder of .eml files.
    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Renders `mail` for `to` and queues it; the sender job is woken at once. Returns the
    /// message's outbox id.
    pub async fn send(
        &self,
        db: &Db,
        to: &Recipient,
        user_id: Option<i64>,
        mail: &Mail,
        now: Timestamp,
    ) -> AppResult<i64> {
        self.queue(db, to, user_id, mail, None, now)
            .await?
            .ok_or_else(crate::error::AppError::internal)
    }

    /// [`Mailer::send`], at most once per `dedupe_key` ever: `Ok(None)` when a message with
    /// that key was queued before (a job that runs again after a crash mails nobody twice).
    pub async fn send_once(
        &self,
        db: &Db,
        to: &Recipient,
        user_id: Option<i64>,
        mail: &Mail,
        dedupe_key: &str,
        now: Timestamp,
    ) -> AppResult<Option<i64>> {
        self.queue(db, to, user_id, mail, Some(dedupe_key), now)
            .await
    }

    async fn queue(
        &self,
        db: &Db,
        to: &Recipient,
        user_id: Option<i64>,
        mail: &Mail,
        dedupe_key: Option<&str>,
        now: Timestamp,
    ) -> AppResult<Option<i64>> {
        let rendered = templates::render(mail, to, &self.public_url);
        let body = serde_json::to_string(&StoredBody {
            text: rendered.text,
            html: rendered.html,
        })
        .map_err(|_| crate::error::AppError::internal())?;
        let sealed = self.keys.seal(body.as_bytes(), SEAL_CONTEXT);
        let id = db::mail_outbox::insert(
            db,
            &db::mail_outbox::NewMail {
                kind: mail.kind(),
                user_id,
                recipient: &to.email,
                recipient_name: &to.name,
                subject: &rendered.subject,
                body_sealed: &sealed,
                now_ms: to_millis(now),
                dedupe_key,
            },
        )
        .await
        .map_err(db_failure)?;
        match id {
            Some(id) => {
                tracing::info!(mail_id = id, kind = mail.kind(), user_id, "mail queued");
                self.wake.notify_one();
            }
            None => {
                tracing::info!(kind = mail.kind(), user_id, "mail queued before; not again");
            }
        }
        Ok(id)
    }

    /// [`Mailer::send`] to a user, for notices: a failure is logged and never fails what the
    /// notice is about.
    pub async fn notify_user(&self, db: &Db, user: &User, mail: &Mail, now: Timestamp) {
        let to = Recipient {
            email: user.email.clone(),
            name: user.name.clone(),
        };
        if let Err(e) = self.send(db, &to, Some(user.id.0), mail, now).await {
            tracing::warn!(user_id = user.id.0, kind = mail.kind(), error = %e, "queueing a notice mail failed");
        }
    }

    /// Resolves when a message was queued since the last call (or a permit was left).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Runs `work` on its own task, counted until it ends (see [`Mailer::background_idle`]).
    pub fn spawn_background(
        self: &Arc<Self>,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        struct Running(Arc<Mailer>);
        impl Drop for Running {
            fn drop(&mut self) {
                self.0.background.send_modify(|n| *n = n.saturating_sub(1));
            }
        }
        self.background.send_modify(|n| *n += 1);
        let running = Running(self.clone());
        tokio::spawn(async move {
            let _running = running;
            work.await;
        });
    }

    /// Resolves once no work started by [`Mailer::spawn_background`] is running.
    pub async fn background_idle(&self) {
        let mut rx = self.background.subscribe();
        // Err only if the sender is gone, which `self` holds: never.
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    fn open_body(&self, sealed: &str) -> Option<StoredBody> {
        let bytes = self.keys.open(sealed, SEAL_CONTEXT)?;
        serde_json::from_slice(&bytes).ok()
    }
}
