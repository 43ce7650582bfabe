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

/// A share from 0 to 1 as a percentage with one decimal ("—" when there is none).
pub fn share(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1} %", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A rate per second: one decimal below 100, whole numbers above.
pub fn per_second(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}/s")
    } else {
        format!("{v:.0}/s")
    }
}

/// A size in bytes, in binary units ("—" when unknown).
pub fn bytes(v: Option<u64>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if v < 1024 {
        return format!("{v} B");
    }
    let mut size = v as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

/// A duration in seconds as its two largest units: `3 d 4 h`, `12 min 5 s`.
pub fn duration_s(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec} s"),
        (0, 0, _) => format!("{m} min {sec} s"),
        (0, _, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
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

/// Undoes `url_encode` (and a form's `+` for a space); a broken `%` escape is kept as text,
/// and bytes that are not UTF-8 become U+FFFD.
pub fn url_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decode_undoes_url_encode() {
        for text in ["", "plain", "a b&c=d/é%", "100%", "%zz", "ü+"] {
            assert_eq!(url_decode(&url_encode(text, false)), text);
        }
        assert_eq!(url_decode("a+b%2"), "a b%2");
        assert_eq!(url_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn formats_in_utc() {
        let t = time::macros::datetime!(2026-11-23 09:05:59 +02:00);
        assert_eq!(datetime(t), "2026-11-23 07:05 UTC");
        assert_eq!(date(t), "2026-11-23");
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(share(Some(0.0123)), "1.2 %");
        assert_eq!(share(None), "—");
        assert_eq!(per_second(2.26), "2.3/s");
        assert_eq!(per_second(1234.4), "1234/s");
        assert_eq!(bytes(Some(512)), "512 B");
        assert_eq!(bytes(Some(3 * 1024 * 1024 + 512 * 1024)), "3.5 MiB");
        assert_eq!(bytes(None), "—");
        assert_eq!(duration_s(42.9), "42 s");
        assert_eq!(duration_s(725.0), "12 min 5 s");
        assert_eq!(duration_s(3.0 * 3600.0 + 60.0), "3 h 1 min");
        assert_eq!(duration_s(2.0 * 86_400.0 + 5.0 * 3600.0), "2 d 5 h");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("/account", true), "/account");
        assert_eq!(url_encode("/a b?c=&", true), "/a%20b%3Fc%3D%26");
        assert_eq!(url_encode("a/b ü", false), "a%2Fb%20%C3%BC");
    }
}
