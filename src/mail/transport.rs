//! Where messages go: an SMTP server (lettre, STARTTLS/TLS over rustls or plain for local
//! servers), or `.eml` files in a folder when no server is configured.

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

pub enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `scheme://host:port`, without credentials or query, for logs.
        shown: String,
    },
    Files(PathBuf),
}

/// Why an attempt failed; permanent failures (the server refused the message for good) are
/// not retried.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl Transport {
    pub fn smtp(url: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "KEYPORT_SMTP_URL cannot be read as an SMTP URL".to_string())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self::Smtp {
            transport,
            shown: shown_url(url),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { shown, .. } => shown.clone(),
            Self::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers `message`; a file is named `<name>.eml`.
    pub async fn deliver(&self, message: &Message, name: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp { transport, .. } => transport
                .send(message.clone())
                .await
                .map(|_| ())
                .map_err(|e| SendError {
                    message: e.to_string(),
                    permanent: e.is_permanent(),
                }),
            Self::Files(dir) => write_eml(dir, name, &message.formatted())
                .await
                .map_err(|e| SendError {
                    message: format!("writing {}: {e}", dir.display()),
                    permanent: false,
                }),
        }
    }
}

/// Written under a temporary name and renamed, so a reader never sees half a message.
async fn write_eml(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(format!("{name}.eml"))).await
}

/// `smtp://user:pass@host:587?tls=required` → `smtp://host:587`.
fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_drop_credentials_and_options() {
        assert_eq!(
            shown_url("smtps://ada%40x.com:hunter2@mail.example.com:465"),
            "smtps://mail.example.com:465"
        );
        assert_eq!(
            shown_url("smtp://mail.example.com:587?tls=required"),
            "smtp://mail.example.com:587"
        );
        assert_eq!(shown_url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
