//! Display formatting shared by pages.

use time::OffsetDateTime;

pub fn datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub fn date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `part` as a percentage of `whole` with one decimal ("—" of nothing).
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1} %", part as f64 * 100.0 / whole as f64)
    }
}

/// A latency in milliseconds with two decimals ("—" when there were no calls).
pub fn latency_ms(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2} ms"))
        .unwrap_or_else(|| "—".into())
}

/// Percent-encodes for a URL query value (or a path, keeping `/`).
pub fn url_encode(text: &str, keep_slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b'/' if keep_slash => "/".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_utc() {
        let t = time::macros::datetime!(2026-11-23 09:05:59 +02:00);
        assert_eq!(datetime(t), "2026-11-23 07:05 UTC");
        assert_eq!(date(t), "2026-11-23");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("/account", true), "/account");
        assert_eq!(url_encode("/a b?c=&", true), "/a%20b%3Fc%3D%26");
        assert_eq!(url_encode("a/b ü", false), "a%2Fb%20%C3%BC");
    }
}
