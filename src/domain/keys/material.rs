//! Key material: `<prefix>_<32 base62 chars of 190 random bits><6 base62 chars of CRC32>`.
//! The checksum lets scanners and the server reject typos and junk without a database look-up;
//! it is not a secret and adds no strength. Only an HMAC of the whole key is ever stored.

use super::super::crypto::random_bytes;

pub const DEFAULT_PREFIX: &str = "kp";
/// 32 base62 digits hold 190 bits; they are drawn from 24 random bytes (192 bits).
const RANDOM_CHARS: usize = 32;
const CHECKSUM_CHARS: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const MAX_KEY_LEN: usize = 12 + 1 + RANDOM_CHARS + CHECKSUM_CHARS;

/// `[a-z0-9]{2,12}`.
pub fn is_valid_prefix(prefix: &str) -> bool {
    (2..=12).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Encodes `bytes` (big-endian number) as exactly `width` base62 digits.
fn base62_fixed(bytes: &[u8], width: usize) -> String {
    let mut digits = bytes.to_vec();
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        // long division of the big number by 62
        let mut remainder = 0u32;
        for d in digits.iter_mut() {
            let acc = (remainder << 8) | u32::from(*d);
            *d = (acc / 62) as u8;
            remainder = acc % 62;
        }
        *slot = BASE62[remainder as usize];
    }
    String::from_utf8(out).unwrap_or_default()
}

fn checksum(prefix: &str, random: &str) -> String {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(prefix.as_bytes());
    hasher.update(b"_");
    hasher.update(random.as_bytes());
    base62_fixed(&hasher.finalize().to_be_bytes(), CHECKSUM_CHARS)
}

/// A new key's plaintext. The caller shows it once and stores only its hash.
pub fn generate(prefix: &str) -> String {
    // 24 bytes = 192 bits; 62^32 > 2^190, so the top bits fold away and 190 bits remain.
    let random = base62_fixed(&random_bytes::<24>(), RANDOM_CHARS);
    let sum = checksum(prefix, &random);
    format!("{prefix}_{random}{sum}")
}

/// What a well-formed key shows of itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub prefix: &'a str,
    pub last4: &'a str,
}

/// Checks shape and checksum, nothing else (no I/O).
pub fn parse(key: &str) -> Option<Parsed<'_>> {
    if key.len() > MAX_KEY_LEN {
        return None;
    }
    let (prefix, body) = key.split_once('_')?;
    if !is_valid_prefix(prefix)
        || body.len() != RANDOM_CHARS + CHECKSUM_CHARS
        || !body.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let (random, sum) = body.split_at(RANDOM_CHARS);
    if checksum(prefix, random) != sum {
        return None;
    }
    Some(Parsed {
        prefix,
        last4: &key[key.len() - 4..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = generate("kp");
        let b = generate("kp");
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 + 1 + 32 + 6);
        let parsed = parse(&a).unwrap();
        assert_eq!(parsed.prefix, "kp");
        assert_eq!(parsed.last4, &a[a.len() - 4..]);
        assert!(parse(&generate("acme2024")).is_some());
    }

    #[test]
    fn base62_is_exact() {
        assert_eq!(base62_fixed(&[0], 3), "000");
        assert_eq!(base62_fixed(&[61], 2), "0z");
        assert_eq!(base62_fixed(&[62], 2), "10");
        assert_eq!(base62_fixed(&0xFFFF_FFFFu32.to_be_bytes(), 6), "4gfFC3");
    }

    #[test]
    fn typos_and_junk_are_rejected() {
        let key = generate("kp");
        // change one character of the random part
        let mut chars: Vec<char> = key.chars().collect();
        chars[5] = if chars[5] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(parse(&typo), None);
        assert_eq!(parse(&key[..key.len() - 1]), None);
        assert_eq!(parse(&format!("{key}x")), None);
        assert_eq!(parse(&key.replacen("kp_", "KP_", 1)), None);
        assert_eq!(parse(&key.replacen("kp_", "k_", 1)), None);
        for junk in [
            "",
            "kp_",
            "_",
            "kp",
            "kp_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "ünï_codeünïcode",
        ] {
            assert_eq!(parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn prefixes() {
        assert!(
            is_valid_prefix("kp") && is_valid_prefix("acme") && is_valid_prefix("a1b2c3d4e5f6")
        );
        for bad in ["k", "KP", "a_b", "abcdefghijklm", "ab-c", ""] {
            assert!(!is_valid_prefix(bad), "{bad}");
        }
    }
}
