//! Configuration: defaults, then `KEYPORT_*` environment variables. Secrets never appear in
//! `Debug` output or logs.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    /// Explicit KEYPORT_SECRET, if given; otherwise one is kept in the data dir.
    pub secret: Option<Secret>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub log_format: LogFormat,
    /// The URL people use to reach the portal; `https://` turns on Secure cookies.
    pub public_url: String,
    /// Where Leptos.toml lives (site settings).
    pub leptos_toml: PathBuf,
    /// The largest request body the gateway forwards (KEYPORT_GATEWAY_MAX_BODY_BYTES).
    pub gateway_max_body_bytes: u64,
    /// Raw usage events older than this many days are purged (1..=3650).
    pub usage_retention_days: u32,
    /// Minute rollups older than this many days are purged (1..=90); hour and day rollups
    /// are kept for good.
    pub minute_rollup_days: u32,
    /// Usage events waiting to be written; when full, new events are dropped and counted.
    pub usage_queue_capacity: usize,
    /// The longest a usage event waits in memory before it is written (10..=1000 ms): the
    /// most a crash can lose.
    pub usage_flush_ms: u64,
    /// A bearer token that may read `GET /metrics` (for a Prometheus scraper); admins' own
    /// tokens may read it too. At least 24 characters.
    pub metrics_token: Option<Secret>,
    /// Where mail goes (KEYPORT_SMTP_URL, lettre's URL form: `smtp://host:port`,
    /// `smtp://user:pass@host:587?tls=required` for STARTTLS, `smtps://…` for TLS). A secret:
    /// it may hold credentials. Without it, mail is written as .eml files under
    /// `<data dir>/mail/`.
    pub smtp_url: Option<Secret>,
    /// The From of every message (KEYPORT_MAIL_FROM), checked to be a mailbox.
    pub mail_from: String,
    /// KEYPORT_REQUIRE_VERIFIED_EMAIL: accounts whose address is not confirmed cannot create
    /// keys (403 EMAIL_NOT_VERIFIED). Off by default.
    pub require_verified_email: bool,
    /// KEYPORT_RUN_JOBS: whether this instance runs the durable job queue (notices, webhook
    /// deliveries, scans). On by default; any number of instances may run it.
    pub run_jobs: bool,
}

/// A true/false setting (`true|1|yes|on`, `false|0|no|off`, any case); `default` when unset.
fn flag(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match lookup(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None => Ok(default),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(_) => Err(ConfigError::Invalid {
            name,
            reason: "expected true or false".into(),
        }),
    }
}

pub const DEFAULT_MAIL_FROM: &str = "Keyport <keyport@localhost>";

/// 10 MiB: uploads bigger than the API's 1 MiB pass, unbounded ones do not.
pub const DEFAULT_GATEWAY_MAX_BODY: u64 = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `lookup`, so tests can pass their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let addr_text = lookup("KEYPORT_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_string());
        let addr: SocketAddr =
            addr_text
                .parse()
                .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                    name: "KEYPORT_ADDR",
                    reason: e.to_string(),
                })?;
        let data_dir = PathBuf::from(lookup("KEYPORT_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url =
            lookup("KEYPORT_DATABASE_URL").unwrap_or_else(|| default_sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "KEYPORT_DATABASE_URL",
                reason: "must start with sqlite:// or postgres://".into(),
            });
        }
        let log_format = match lookup("KEYPORT_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "KEYPORT_LOG_FORMAT",
                    reason: format!("expected text or json, got {other:?}"),
                });
            }
        };
        let secret = lookup("KEYPORT_SECRET").map(Secret::new);
        if let Some(s) = &secret
            && s.expose().len() < 32
        {
            return Err(ConfigError::Invalid {
                name: "KEYPORT_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        let gateway_max_body_bytes = match lookup("KEYPORT_GATEWAY_MAX_BODY_BYTES") {
            None => DEFAULT_GATEWAY_MAX_BODY,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1 << 40).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "KEYPORT_GATEWAY_MAX_BODY_BYTES",
                    reason: "must be a number of bytes between 1 and 2^40".into(),
                })?,
        };
        let public_url = lookup("KEYPORT_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        let usage_retention_days =
            bounded_number(&lookup, "KEYPORT_USAGE_RETENTION_DAYS", 90, 1..=3650)?;
        let minute_rollup_days = bounded_number(&lookup, "KEYPORT_MINUTE_ROLLUP_DAYS", 7, 1..=90)?;
        let usage_queue_capacity =
            bounded_number(&lookup, "KEYPORT_USAGE_QUEUE", 100_000, 1000..=10_000_000)?;
        let usage_flush_ms = bounded_number(&lookup, "KEYPORT_USAGE_FLUSH_MS", 500, 10..=1000)?;
        let metrics_token = match lookup("KEYPORT_METRICS_TOKEN") {
            Some(t) if t.trim().len() >= 24 => Some(Secret::new(t.trim().to_string())),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "KEYPORT_METRICS_TOKEN",
                    reason: "must be at least 24 characters (e.g. openssl rand -hex 16)".into(),
                });
            }
            None => None,
        };
        let smtp_url = lookup("KEYPORT_SMTP_URL")
            .map(|url| check_smtp_url(url.trim()).map(|()| Secret::new(url.trim())))
            .transpose()?;
        let mail_from = lookup("KEYPORT_MAIL_FROM")
            .map(|from| from.trim().to_string())
            .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_string());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                name: "KEYPORT_MAIL_FROM",
                reason: "must be an address, optionally with a name: Keyport <keys@example.com>"
                    .into(),
            });
        }
        let require_verified_email = flag(&lookup, "KEYPORT_REQUIRE_VERIFIED_EMAIL", false)?;
        let run_jobs = flag(&lookup, "KEYPORT_RUN_JOBS", true)?;
        Ok(Self {
            addr,
            database_url,
            data_dir,
            secret,
            admin_email: lookup("KEYPORT_ADMIN_EMAIL"),
            admin_password: lookup("KEYPORT_ADMIN_PASSWORD").map(Secret::new),
            log_format,
            public_url,
            leptos_toml: PathBuf::from(
                lookup("KEYPORT_LEPTOS_TOML").unwrap_or_else(|| "Leptos.toml".into()),
            ),
            gateway_max_body_bytes,
            usage_retention_days,
            minute_rollup_days,
            usage_queue_capacity,
            usage_flush_ms,
            metrics_token,
            smtp_url,
            mail_from,
            require_verified_email,
            run_jobs,
        })
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Checks an SMTP URL the way the mail transport reads it; the reason never repeats the URL
/// (it may hold a password).
fn check_smtp_url(url: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "KEYPORT_SMTP_URL",
        reason: format!(
            "{reason} (expected smtp://host:port, smtp://user:pass@host:587?tls=required or smtps://host:465)"
        ),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("not a URL"))?;
    if !matches!(scheme, "smtp" | "smtps") {
        return Err(invalid("the scheme must be smtp or smtps"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(invalid("the host is missing"));
    }
    let tls = url.split_once('?').map(|(_, q)| q).and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(tls) = tls.as_deref()
        && !matches!(tls, "required" | "opportunistic")
    {
        return Err(invalid("tls must be required or opportunistic"));
    }
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|_| invalid("the mail transport cannot read it"))
}

/// A whole number from `name`, `default` when unset; outside `range` is a configuration error.
fn bounded_number<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    let Some(text) = lookup(name) else {
        return Ok(default);
    };
    let invalid = || ConfigError::Invalid {
        name,
        reason: format!(
            "expected a whole number from {} to {}, got {text:?}",
            range.start(),
            range.end()
        ),
    };
    let value: T = text.trim().parse().map_err(|_| invalid())?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(invalid())
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("keyport.db").display())
}

/// Returns the server secret: KEYPORT_SECRET if set, else the one kept in `<data_dir>/secret`,
/// generated on first start and readable by the owner only.
pub fn load_or_create_secret(config: &Config) -> std::io::Result<Secret> {
    if let Some(secret) = &config.secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join("secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(Secret::new(text.trim())),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} is too short; delete it to have a new secret generated",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let value = crate::domain::crypto::random_hex(32);
    write_private_file(&path, &value)?;
    Ok(Secret::new(value))
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_under_data() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://./data/keyport.db");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn rejects_bad_values() {
        assert!(config(&[("KEYPORT_ADDR", "nope")]).is_err());
        assert!(config(&[("KEYPORT_DATABASE_URL", "mysql://x")]).is_err());
        assert!(config(&[("KEYPORT_LOG_FORMAT", "xml")]).is_err());
        assert!(config(&[("KEYPORT_SECRET", "short")]).is_err());
    }

    #[test]
    fn usage_settings_default_and_bounds() {
        let c = config(&[]).unwrap();
        assert_eq!(c.usage_retention_days, 90);
        assert_eq!(c.usage_queue_capacity, 100_000);
        assert_eq!(c.usage_flush_ms, 500);
        assert_eq!(c.minute_rollup_days, 7);

        let c = config(&[
            ("KEYPORT_USAGE_RETENTION_DAYS", "3650"),
            ("KEYPORT_USAGE_QUEUE", "1000"),
            ("KEYPORT_USAGE_FLUSH_MS", "1000"),
            ("KEYPORT_MINUTE_ROLLUP_DAYS", "90"),
        ])
        .unwrap();
        assert_eq!(c.minute_rollup_days, 90);
        assert_eq!(
            (
                c.usage_retention_days,
                c.usage_queue_capacity,
                c.usage_flush_ms
            ),
            (3650, 1000, 1000)
        );

        for (name, bad) in [
            ("KEYPORT_USAGE_RETENTION_DAYS", "0"),
            ("KEYPORT_USAGE_RETENTION_DAYS", "3651"),
            ("KEYPORT_USAGE_RETENTION_DAYS", "-1"),
            ("KEYPORT_USAGE_QUEUE", "999"),
            ("KEYPORT_USAGE_QUEUE", "10000001"),
            ("KEYPORT_USAGE_QUEUE", "lots"),
            ("KEYPORT_USAGE_FLUSH_MS", "9"),
            ("KEYPORT_USAGE_FLUSH_MS", "1001"),
            ("KEYPORT_USAGE_FLUSH_MS", "0.5"),
            ("KEYPORT_MINUTE_ROLLUP_DAYS", "0"),
            ("KEYPORT_MINUTE_ROLLUP_DAYS", "91"),
        ] {
            match config(&[(name, bad)]) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name, "{bad}"),
                Ok(_) => panic!("{name}={bad} was accepted"),
            }
        }
    }

    #[test]
    fn mail_settings_default_parse_and_stay_secret() {
        let c = config(&[]).unwrap();
        assert!(c.smtp_url.is_none(), "no SMTP: mail goes to .eml files");
        assert_eq!(c.mail_from, DEFAULT_MAIL_FROM);

        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
            "smtps://user%40example.com:p%40ss@mail.example.com:465",
        ] {
            let c = config(&[("KEYPORT_SMTP_URL", ok)]).unwrap();
            assert_eq!(c.smtp_url.as_ref().map(Secret::expose), Some(ok));
        }
        let c = config(&[(
            "KEYPORT_SMTP_URL",
            "smtp://keyport:hunter2-very-secret@mail.example.com:587?tls=required",
        )])
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2-very-secret"));

        for bad in [
            "mail.example.com:25",
            "http://mail.example.com",
            "smtp://",
            "smtp://:25",
            "smtp://mail.example.com?tls=sometimes",
            "smtp://keyport:hunter2-very-secret@?tls=nope",
        ] {
            match config(&[("KEYPORT_SMTP_URL", bad)]) {
                Err(ConfigError::Invalid { name, reason }) => {
                    assert_eq!(name, "KEYPORT_SMTP_URL", "{bad}");
                    assert!(
                        !reason.contains("hunter2"),
                        "the reason repeats the URL: {reason}"
                    );
                }
                Ok(_) => panic!("KEYPORT_SMTP_URL={bad} was accepted"),
            }
        }

        let c = config(&[("KEYPORT_MAIL_FROM", "Acme Keys <keys@acme.example>")]).unwrap();
        assert_eq!(c.mail_from, "Acme Keys <keys@acme.example>");
        for bad in ["not an address", "Acme <>", "a@b@c"] {
            assert!(
                config(&[("KEYPORT_MAIL_FROM", bad)]).is_err(),
                "KEYPORT_MAIL_FROM={bad} was accepted"
            );
        }
    }

    #[test]
    fn requiring_verified_email_is_off_unless_set() {
        assert!(!config(&[]).unwrap().require_verified_email);
        for (text, want) in [
            ("true", true),
            ("1", true),
            ("FALSE", false),
            ("off", false),
        ] {
            let c = config(&[("KEYPORT_REQUIRE_VERIFIED_EMAIL", text)]).unwrap();
            assert_eq!(c.require_verified_email, want, "{text}");
        }
        assert!(config(&[("KEYPORT_REQUIRE_VERIFIED_EMAIL", "maybe")]).is_err());
    }

    #[test]
    fn the_job_runner_is_on_unless_turned_off() {
        assert!(config(&[]).unwrap().run_jobs);
        assert!(!config(&[("KEYPORT_RUN_JOBS", "false")]).unwrap().run_jobs);
        assert!(config(&[("KEYPORT_RUN_JOBS", "later")]).is_err());
    }

    #[test]
    fn https_public_url_means_secure_cookies() {
        let c = config(&[("KEYPORT_PUBLIC_URL", "https://keys.example.com/")]).unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.public_url, "https://keys.example.com");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = config(&[(
            "KEYPORT_SECRET",
            "0123456789abcdef0123456789abcdef-very-secret",
        )])
        .unwrap();
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    #[test]
    fn secret_is_generated_once_with_owner_only_mode() {
        let dir = std::env::temp_dir().join(format!("keyport-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let c = config(&[("KEYPORT_DATA_DIR", dir.to_str().unwrap())]).unwrap();
        let first = load_or_create_secret(&c).unwrap();
        let second = load_or_create_secret(&c).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
