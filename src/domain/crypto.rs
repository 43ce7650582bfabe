//! Small cryptographic helpers over vetted primitives (OS CSPRNG, HMAC-SHA256).

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

pub fn random_hex(n_bytes: usize) -> String {
    let mut bytes = vec![0u8; n_bytes];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

fn keyed_mac(key: &[u8]) -> HmacSha256 {
    use hmac::digest::KeyInit;
    use sha2::Digest;
    // RFC 2104 key normalisation done here, so the infallible fixed-size constructor applies:
    // keys longer than the 64-byte block are hashed first, shorter ones zero-padded.
    let mut block = [0u8; 64];
    if key.len() > block.len() {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    <HmacSha256 as KeyInit>::new(&block.into())
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Purpose-bound keys derived from the one server secret, so a leak of one use's key does not
/// expose the others.
#[derive(Clone)]
pub struct Keys {
    pub jwt: [u8; 32],
    pub token_hash: [u8; 32],
    /// HMAC keyed with `token_hash`, ready to clone: the verify hot path skips re-keying.
    token_mac: HmacSha256,
}

impl Keys {
    pub fn derive(secret: &str) -> Self {
        let token_hash = hmac_sha256(secret.as_bytes(), b"keyport/token-hash/v1");
        Self {
            jwt: hmac_sha256(secret.as_bytes(), b"keyport/jwt/v1"),
            token_hash,
            token_mac: keyed_mac(&token_hash),
        }
    }

    /// HMAC-SHA256 of `token` under the token-hash key, as bytes.
    pub fn token_mac(&self, token: &[u8]) -> [u8; 32] {
        let mut mac = self.token_mac.clone();
        mac.update(token);
        mac.finalize().into_bytes().into()
    }

    /// The stored form of an opaque token (refresh tokens, later API keys): a keyed hash.
    pub fn hash_token(&self, token: &str) -> String {
        hex(&self.token_mac(token.as_bytes()))
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let keys = Keys::derive("0123456789abcdef0123456789abcdef");
        assert_ne!(keys.jwt, keys.token_hash);
        assert_eq!(keys.hash_token("a"), keys.hash_token("a"));
        assert_eq!(
            keys.token_mac(b"a"),
            hmac_sha256(&keys.token_hash, b"a"),
            "the prepared MAC is the same HMAC"
        );
        assert_ne!(keys.hash_token("a"), keys.hash_token("b"));
    }

    #[test]
    fn random_values_are_fresh() {
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(random_hex(16).len(), 32);
    }
}
