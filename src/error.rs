//! One error type for the whole crate, with stable codes. REST renders it as the contract's
//! JSON body (src/api/error.rs); pages and server functions show `detail` to the user.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable, documented error codes (`error_code` on the wire). Never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    ValidationError,
    UnsupportedMediaType,
    PayloadTooLarge,
    NotFound,
    MethodNotAllowed,
    Unauthorized,
    InvalidCredentials,
    /// Password right, two-factor sign-in on, no code given.
    TotpRequired,
    /// Password right, the code (or recovery code) wrong, used or out of its time.
    TotpInvalid,
    InvalidToken,
    /// A mailed link's token (password reset, email verification) is unknown, used or expired.
    EmailTokenInvalid,
    /// KEYPORT_REQUIRE_VERIFIED_EMAIL is on and the account's address is not confirmed.
    EmailNotVerified,
    Forbidden,
    CsrfFailed,
    EmailTaken,
    /// Another API already has this slug.
    SlugTaken,
    Conflict,
    SetupRequired,
    SetupDone,
    TooManyAttempts,
    ServiceUnavailable,
    InternalError,
    // The gateway's answers, named as verification names them.
    ApiKeyInvalid,
    ApiKeyRevoked,
    ApiKeyExpired,
    ApiKeyDisabled,
    PermissionDenied,
    IpNotAllowed,
    OriginNotAllowed,
    RateLimitExceeded,
    QuotaExceeded,
    UsageExceeded,
    BadGateway,
    GatewayTimeout,
    // Organizations.
    /// The change would leave an org without an owner.
    LastOwner,
    /// An invitation link is unknown, used or revoked.
    InvitationInvalid,
    InvitationExpired,
    /// The invitation was sent to another address than the signed-in user's.
    InvitationEmailMismatch,
    /// An org cannot be deleted while it owns keys that are not revoked.
    OrgHasKeys,
    /// An admin suspended the account: its sessions, tokens and management keys are refused.
    AccountSuspended,
    /// The change would leave the instance without an active super admin.
    LastSuperAdmin,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::InvalidJson => "INVALID_JSON",
            Self::ValidationError => "VALIDATION_ERROR",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::NotFound => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::TotpRequired => "TOTP_REQUIRED",
            Self::TotpInvalid => "TOTP_INVALID",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::EmailTokenInvalid => "EMAIL_TOKEN_INVALID",
            Self::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            Self::Forbidden => "FORBIDDEN",
            Self::CsrfFailed => "CSRF_FAILED",
            Self::EmailTaken => "EMAIL_TAKEN",
            Self::SlugTaken => "SLUG_TAKEN",
            Self::Conflict => "CONFLICT",
            Self::SetupRequired => "SETUP_REQUIRED",
            Self::SetupDone => "SETUP_DONE",
            Self::TooManyAttempts => "TOO_MANY_ATTEMPTS",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalError => "INTERNAL_ERROR",
            Self::ApiKeyInvalid => "API_KEY_INVALID",
            Self::ApiKeyRevoked => "API_KEY_REVOKED",
            Self::ApiKeyExpired => "API_KEY_EXPIRED",
            Self::ApiKeyDisabled => "API_KEY_DISABLED",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::IpNotAllowed => "IP_NOT_ALLOWED",
            Self::OriginNotAllowed => "ORIGIN_NOT_ALLOWED",
            Self::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
            Self::UsageExceeded => "USAGE_EXCEEDED",
            Self::BadGateway => "BAD_GATEWAY",
            Self::GatewayTimeout => "GATEWAY_TIMEOUT",
            Self::LastOwner => "LAST_OWNER",
            Self::InvitationInvalid => "INVITATION_INVALID",
            Self::InvitationExpired => "INVITATION_EXPIRED",
            Self::InvitationEmailMismatch => "INVITATION_EMAIL_MISMATCH",
            Self::OrgHasKeys => "ORG_HAS_KEYS",
            Self::AccountSuspended => "ACCOUNT_SUSPENDED",
            Self::LastSuperAdmin => "LAST_SUPER_ADMIN",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidJson | Self::EmailTokenInvalid => 400,
            Self::Unauthorized
            | Self::InvalidCredentials
            | Self::TotpRequired
            | Self::TotpInvalid
            | Self::InvalidToken => 401,
            Self::ApiKeyInvalid
            | Self::ApiKeyRevoked
            | Self::ApiKeyExpired
            | Self::ApiKeyDisabled => 401,
            Self::Forbidden | Self::CsrfFailed | Self::EmailNotVerified => 403,
            Self::AccountSuspended => 403,
            Self::PermissionDenied | Self::IpNotAllowed | Self::OriginNotAllowed => 403,
            Self::RateLimitExceeded | Self::QuotaExceeded | Self::UsageExceeded => 429,
            Self::BadGateway => 502,
            Self::GatewayTimeout => 504,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::EmailTaken
            | Self::SlugTaken
            | Self::Conflict
            | Self::SetupRequired
            | Self::SetupDone
            | Self::LastSuperAdmin => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ValidationError => 422,
            Self::TooManyAttempts => 429,
            Self::InternalError => 500,
            Self::ServiceUnavailable => 503,
            Self::LastOwner | Self::OrgHasKeys => 409,
            Self::InvitationInvalid | Self::InvitationExpired => 400,
            Self::InvitationEmailMismatch => 403,
        }
    }
}

/// A field-level validation message (`errors[]` in the contract's 422 body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Where the problem is, e.g. `body.email`.
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds until a throttled caller may try again (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "The request has invalid fields.".to_string(),
        };
        Self {
            code: ErrorCode::ValidationError,
            detail,
            errors,
            retry_after: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found."))
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "Sign in to continue.")
    }

    pub fn account_suspended() -> Self {
        Self::new(
            ErrorCode::AccountSuspended,
            "This account is suspended by an administrator; contact them to have it reactivated.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "You do not have permission to do that.",
        )
    }

    /// For failures whose cause must not reach the caller; the cause is logged by the caller.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalError,
            "Something went wrong on our side. Please try again.",
        )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for AppError {}

/// Server functions report failures as `AppError` so pages can show `detail` and REST-like codes.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(_) | E::Deserialization(_) => AppError::new(
                ErrorCode::BadRequest,
                "The form could not be read. Please try again.",
            ),
            _ => AppError::internal(),
        }
    }
}

/// Validation collector: gathers every field problem before answering once.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.errors.push(FieldError {
                field: field.to_string(),
                message: message.to_string(),
            });
        }
        self
    }

    pub fn finish(&mut self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(std::mem::take(&mut self.errors)))
        }
    }
}
