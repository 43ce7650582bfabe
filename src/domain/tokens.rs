//! Access tokens: compact JWS (RFC 7515) with HS256 only. The header is fixed and checked
//! byte for byte, so `alg: none` and algorithm-confusion attacks have nothing to work with.

use super::crypto::{constant_time_eq, hmac_sha256};
use crate::error::{AppError, AppResult, ErrorCode};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
const ISSUER: &str = "keyport";
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// User id.
    pub sub: i64,
    /// The REST session this token belongs to; logout revokes it.
    pub sid: i64,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn new(user_id: i64, session_id: i64, now_unix: i64) -> Self {
        Self {
            iss: ISSUER.into(),
            sub: user_id,
            sid: session_id,
            iat: now_unix,
            exp: now_unix + ACCESS_TOKEN_TTL_SECS,
        }
    }
}

pub fn encode(key: &[u8], claims: &Claims) -> AppResult<String> {
    let payload = serde_json::to_vec(claims).map_err(|_| AppError::internal())?;
    let signing_input = format!("{HEADER_B64}.{}", URL_SAFE_NO_PAD.encode(payload));
    let signature = hmac_sha256(key, signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn invalid(detail: &str) -> AppError {
    AppError::new(ErrorCode::InvalidToken, detail)
}

pub fn decode(key: &[u8], token: &str, now_unix: i64) -> AppResult<Claims> {
    let malformed = || invalid("The access token is malformed or its signature is wrong.");
    let (signing_input, signature_b64) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (header, payload_b64) = signing_input.split_once('.').ok_or_else(malformed)?;
    if header != HEADER_B64 {
        return Err(malformed());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| malformed())?;
    if !constant_time_eq(&signature, &hmac_sha256(key, signing_input.as_bytes())) {
        return Err(malformed());
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| malformed())?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| malformed())?;
    if claims.iss != ISSUER {
        return Err(malformed());
    }
    if now_unix >= claims.exp {
        return Err(invalid(
            "The access token has expired; use your refresh token to get a new one.",
        ));
    }
    Ok(claims)
}

/// True when `token` has the shape of one of our access tokens (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.starts_with(HEADER_B64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn header_constant_matches_its_json() {
        assert_eq!(
            URL_SAFE_NO_PAD.decode(HEADER_B64).unwrap(),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
    }

    #[test]
    fn round_trip_until_expiry() {
        let claims = Claims::new(7, 3, 1_000);
        let token = encode(KEY, &claims).unwrap();
        assert!(looks_like_jwt(&token));
        assert_eq!(decode(KEY, &token, 1_000).unwrap(), claims);
        assert_eq!(
            decode(KEY, &token, 1_000 + ACCESS_TOKEN_TTL_SECS - 1).unwrap(),
            claims
        );
        let expired = decode(KEY, &token, 1_000 + ACCESS_TOKEN_TTL_SECS).unwrap_err();
        assert_eq!(expired.code, ErrorCode::InvalidToken);
        assert!(expired.detail.contains("expired"));
    }

    #[test]
    fn rejects_tampering_other_keys_and_alg_none() {
        let token = encode(KEY, &Claims::new(7, 3, 1_000)).unwrap();
        assert!(decode(b"another key entirely, 32 bytes!!", &token, 1_000).is_err());
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD
            .encode(br#"{"iss":"keyport","sub":1,"sid":3,"iat":1000,"exp":99999999999}"#);
        assert!(
            decode(
                KEY,
                &format!("{}.{}.{}", parts[0], forged_payload, parts[2]),
                1_000
            )
            .is_err()
        );
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(decode(KEY, &format!("{none_header}.{}.", parts[1]), 1_000).is_err());
        assert!(decode(KEY, "garbage", 1_000).is_err());
        assert!(decode(KEY, "a.b.c", 1_000).is_err());
    }
}
