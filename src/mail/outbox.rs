//! Delivering the outbox. Each run claims the due messages with a lease (so of several
//! instances one sends each), sends them, and records the outcome: sent; due again after a
//! backoff; or, after [`MAX_ATTEMPTS`] attempts or [`MAX_AGE_MS`], failed for good (logged).
//!
//! Retry schedule (delay after the n-th failed attempt): 30 s, 1, 2, 4, 8, 16, 32 min, 1 h 4,
//! 2 h 8, then every 4 h; the 12th failure gives up (about 12 h after the first try), and so
//! does any failure of a message queued over 24 h ago.

use super::Mailer;
use crate::db::{self, Db, mail_outbox::ClaimedMail};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};

/// How long a claimed message is reserved for the instance sending it. Longer than an SMTP
/// conversation may take (its timeout is 30 s), so a lease only runs out if that instance died.
pub const LEASE_MS: i64 = 2 * 60 * 1000;
/// Messages claimed per run; the sender runs again at once while runs come back full.
pub const BATCH: i64 = 20;
pub const MAX_ATTEMPTS: i64 = 12;
pub const MAX_AGE_MS: i64 = 24 * 3600 * 1000;
const FIRST_RETRY_MS: i64 = 30_000;
const LONGEST_RETRY_MS: i64 = 4 * 3600 * 1000;

/// The wait before the next attempt after `failed_attempts` failures (1 or more).
pub fn retry_delay_ms(failed_attempts: i64) -> i64 {
    let doublings = u32::try_from(failed_attempts.clamp(1, 20) - 1).unwrap_or(0);
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_RETRY_MS)
}

/// Whether a message that just failed its `attempts`-th attempt is given up.
pub fn gives_up(attempts: i64, created_ms: i64, now_ms: i64) -> bool {
    attempts >= MAX_ATTEMPTS || now_ms - created_ms >= MAX_AGE_MS
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Delivers every message due at `now_ms` (up to [`BATCH`]).
pub async fn deliver_due(
    db: &Db,
    mailer: &Mailer,
    now_ms: i64,
) -> Result<DeliveryRun, sqlx::Error> {
    let claimed = db::mail_outbox::claim_due(db, now_ms, now_ms + LEASE_MS, BATCH).await?;
    let mut run = DeliveryRun {
        claimed: claimed.len(),
        ..DeliveryRun::default()
    };
    for mail in &claimed {
        let outcome = match build_message(mailer, mail) {
            Ok(message) => {
                let name = format!("{}-{}", mail.created_at, mail.id);
                mailer.transport.deliver(&message, &name).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                db::mail_outbox::mark_sent(db, mail, now_ms).await?;
                tracing::info!(mail_id = mail.id, kind = %mail.kind, attempts = mail.attempts, "mail sent");
                run.sent += 1;
            }
            Err(e) if e.permanent || gives_up(mail.attempts, mail.created_at, now_ms) => {
                let error = short(&e.message);
                db::mail_outbox::mark_failed(db, mail, now_ms, &error).await?;
                tracing::warn!(mail_id = mail.id, kind = %mail.kind, attempts = mail.attempts, error = %error,
                    "mail given up: it will not be sent");
                run.failed += 1;
            }
            Err(e) => {
                let error = short(&e.message);
                let delay = retry_delay_ms(mail.attempts);
                db::mail_outbox::mark_retry(db, mail, now_ms + delay, &error).await?;
                tracing::warn!(mail_id = mail.id, kind = %mail.kind, attempts = mail.attempts, retry_in_s = delay / 1000,
                    error = %error, "mail not delivered yet; will retry");
                run.retrying += 1;
            }
        }
    }
    Ok(run)
}

/// Errors are stored and logged; a server's answer can be long.
fn short(text: &str) -> String {
    text.chars().take(500).collect()
}

fn permanent(message: &str) -> super::transport::SendError {
    super::transport::SendError {
        message: message.to_string(),
        permanent: true,
    }
}

fn build_message(
    mailer: &Mailer,
    mail: &ClaimedMail,
) -> Result<Message, super::transport::SendError> {
    let body = mailer.open_body(&mail.body_sealed).ok_or_else(|| {
        permanent("the message body does not open (was the server secret changed?)")
    })?;
    let address: Address = mail
        .recipient
        .parse()
        .map_err(|_| permanent("the recipient is not a deliverable address"))?;
    let name = (!mail.recipient_name.trim().is_empty()).then(|| mail.recipient_name.clone());
    let domain = mailer.from.email.domain().to_string();
    let date = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(mail.created_at).unwrap_or(0));
    Message::builder()
        .from(mailer.from.clone())
        .to(Mailbox::new(name, address))
        .subject(mail.subject.clone())
        // The same id on every attempt, so a receiver can drop a duplicate delivery.
        .message_id(Some(format!(
            "<keyport.{}.{}@{}>",
            mail.id, mail.created_at, domain
        )))
        .date(date)
        .multipart(MultiPart::alternative_plain_html(body.text, body.html))
        .map_err(|e| permanent(&format!("the message cannot be built: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;
    const M: i64 = 60 * S;

    #[test]
    fn retries_back_off_exponentially_up_to_four_hours() {
        let delays: Vec<i64> = (1..=12).map(retry_delay_ms).collect();
        assert_eq!(
            delays,
            vec![
                30 * S,
                M,
                2 * M,
                4 * M,
                8 * M,
                16 * M,
                32 * M,
                64 * M,
                128 * M,
                240 * M,
                240 * M,
                240 * M
            ]
        );
        assert_eq!(
            retry_delay_ms(0),
            30 * S,
            "no failure yet reads as the first"
        );
        assert_eq!(retry_delay_ms(i64::MAX), 240 * M);
    }

    #[test]
    fn gives_up_after_twelve_attempts_or_a_day() {
        let created = 1_000_000;
        assert!(!gives_up(11, created, created + 12 * 3600 * S));
        assert!(gives_up(12, created, created + 12 * 3600 * S));
        assert!(!gives_up(1, created, created + MAX_AGE_MS - 1));
        assert!(gives_up(1, created, created + MAX_AGE_MS));
        // The whole schedule fits in the day: the attempt count is what ends it.
        let total: i64 = (1..MAX_ATTEMPTS).map(retry_delay_ms).sum();
        assert!(total < MAX_AGE_MS, "{total}");
    }
}
