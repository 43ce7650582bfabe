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
    /// Seals secrets the server must read back (TOTP secrets): ChaCha20-Poly1305.
    sealing: [u8; 32],
    /// HMAC keyed with `token_hash`, ready to clone: the verify hot path skips re-keying.
    token_mac: HmacSha256,
}

impl Keys {
    pub fn derive(secret: &str) -> Self {
        let token_hash = hmac_sha256(secret.as_bytes(), b"keyport/token-hash/v1");
        Self {
            jwt: hmac_sha256(secret.as_bytes(), b"keyport/jwt/v1"),
            token_hash,
            sealing: hmac_sha256(secret.as_bytes(), b"keyport/sealing/v1"),
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

/// Bytes in front of a sealed value: its random nonce.
const NONCE_BYTES: usize = 12;

impl Keys {
    /// `plain` encrypted and authenticated, bound to `context` (e.g. the owning user), as
    /// base64 of nonce + ciphertext: a sealed value copied to another row does not open.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> String {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.sealing.into());
        let nonce = random_bytes::<NONCE_BYTES>();
        let payload = Payload {
            msg: plain,
            aad: context,
        };
        // Encryption fails only for messages beyond 256 GiB.
        let sealed = cipher.encrypt(&nonce.into(), payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
    }

    /// What [`Keys::seal`] sealed with the same `context`; `None` if it was altered, sealed
    /// for another context or under another server secret.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed)
            .ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.sealing.into());
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        cipher
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .ok()
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
    fn sealed_values_open_only_unaltered_in_their_context() {
        let keys = Keys::derive("0123456789abcdef0123456789abcdef");
        let sealed = keys.seal(b"totp secret", b"user:7");
        assert_ne!(
            keys.seal(b"totp secret", b"user:7"),
            sealed,
            "fresh nonce each time"
        );
        assert_eq!(
            keys.open(&sealed, b"user:7").as_deref(),
            Some(&b"totp secret"[..])
        );
        assert_eq!(keys.open(&sealed, b"user:8"), None, "another user's row");
        let other = Keys::derive("another server secret, 32 chars!");
        assert_eq!(other.open(&sealed, b"user:7"), None);
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            keys.open(&String::from_utf8(altered).unwrap(), b"user:7"),
            None
        );
        assert_eq!(keys.open("", b"user:7"), None);
        assert_eq!(keys.open("not base64!", b"user:7"), None);
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
