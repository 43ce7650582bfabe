//! Every message Keyport sends, rendered to a subject, a plain-text body and an HTML body.
//! Values from users (names, user agents) and links are escaped in the HTML; links are built
//! from the public URL only, never from a request's Host.

use crate::app::format::{datetime, url_encode};
use crate::domain::Timestamp;

/// Who a message goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: String,
}

/// Where and when something happened to an account, told in security notices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub at: Timestamp,
    pub ip: String,
    pub user_agent: String,
}

impl Notice {
    /// The client a request came from, now.
    pub fn from_client(client: &crate::domain::ClientInfo, at: Timestamp) -> Self {
        Self {
            at,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        }
    }
}

/// A message to send. Later issues add their notifications here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mail {
    /// A link to choose a new password (the token is valid for `valid_minutes`).
    PasswordReset {
        token: String,
        valid_minutes: i64,
    },
    /// A link that confirms the address.
    VerifyEmail {
        token: String,
        valid_hours: i64,
    },
    PasswordChanged(Notice),
    TwoFactorEnabled(Notice),
    TwoFactorDisabled(Notice),
    RecoveryCodeUsed(Notice),
    /// New recovery codes replaced the old ones.
    RecoveryCodesReplaced(Notice),
    /// An admin turned two-factor sign-in off (the notice says from where the admin acted).
    TwoFactorReset(Notice),
    /// An event the user opted in to hear of by mail (`crate::mail::events`).
    Event(EventNotice),
    /// An invitation to join an organization (the link works once, for `valid_days`).
    OrgInvitation {
        token: String,
        org_name: String,
        inviter: String,
        role: String,
        valid_days: i64,
    },
}

/// What an event mail says: the notification's title, text and link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventNotice {
    /// The event type (`key.expiring`).
    pub kind: String,
    pub title: String,
    pub body: String,
    /// A portal path (`/keys/12`) or an https URL; anything else is left out.
    pub link: String,
}

impl Mail {
    /// Stored with the message (`mail_outbox.kind`), for logs and admin views.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PasswordReset { .. } => "password_reset",
            Self::VerifyEmail { .. } => "verify_email",
            Self::PasswordChanged(_) => "password_changed",
            Self::TwoFactorEnabled(_) => "two_factor_enabled",
            Self::TwoFactorDisabled(_) => "two_factor_disabled",
            Self::RecoveryCodeUsed(_) => "recovery_code_used",
            Self::RecoveryCodesReplaced(_) => "recovery_codes_replaced",
            Self::TwoFactorReset(_) => "two_factor_reset",
            Self::OrgInvitation { .. } => "org_invitation",
            Self::Event(e) => {
                crate::domain::notification_prefs::event_type(&e.kind).map_or("event", |t| t.kind)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a message says, before it is written out twice (text and HTML).
struct Body {
    subject: String,
    paragraphs: Vec<String>,
    action: Option<(&'static str, String)>,
    details: Vec<(&'static str, String)>,
    closing: String,
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `public_url` + `path` + `?token=…`, the token percent-encoded.
pub fn token_link(public_url: &str, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={}",
        public_url.trim_end_matches('/'),
        url_encode(token, false)
    )
}

fn notice_details(n: &Notice) -> Vec<(&'static str, String)> {
    let mut details = vec![("When", datetime(n.at))];
    if !n.ip.is_empty() {
        details.push(("IP address", n.ip.clone()));
    }
    if !n.user_agent.is_empty() {
        // A user agent is whatever the client sent: cut it to a readable length.
        let agent: String = n.user_agent.chars().take(200).collect();
        details.push(("Device", agent));
    }
    details
}

fn not_you(public_url: &str) -> String {
    format!(
        "If this was not you, reset your password at {}/forgot-password now and turn on two-factor sign-in.",
        public_url.trim_end_matches('/')
    )
}

fn body(mail: &Mail, public_url: &str) -> Body {
    let base = public_url.trim_end_matches('/');
    match mail {
        Mail::PasswordReset {
            token,
            valid_minutes,
        } => Body {
            subject: "Reset your Keyport password".into(),
            paragraphs: vec![
                "Someone asked to reset the password of your Keyport account. To choose a new password, open this link:".into(),
            ],
            action: Some(("Choose a new password", token_link(base, "/reset-password", token))),
            details: vec![],
            closing: format!(
                "The link works once, for {valid_minutes} minutes. If you did not ask for it, ignore this message: your password stays as it is."
            ),
        },
        Mail::VerifyEmail { token, valid_hours } => Body {
            subject: "Confirm your email address for Keyport".into(),
            paragraphs: vec!["Confirm that this address belongs to your Keyport account:".into()],
            action: Some(("Confirm my address", token_link(base, "/verify-email", token))),
            details: vec![],
            closing: format!(
                "The link works once, for {valid_hours} hours. If you did not create an account, ignore this message."
            ),
        },
        Mail::PasswordChanged(n) => Body {
            subject: "Your Keyport password was changed".into(),
            paragraphs: vec![
                "The password of your Keyport account was changed, and your other sessions were signed out.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
        Mail::TwoFactorEnabled(n) => Body {
            subject: "Two-factor sign-in is on for your Keyport account".into(),
            paragraphs: vec![
                "Two-factor sign-in was turned on: signing in now asks for a code from your authenticator app.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
        Mail::TwoFactorDisabled(n) => Body {
            subject: "Two-factor sign-in is off for your Keyport account".into(),
            paragraphs: vec![
                "Two-factor sign-in was turned off: signing in now needs only your password.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
        Mail::RecoveryCodesReplaced(n) => Body {
            subject: "New recovery codes for your Keyport account".into(),
            paragraphs: vec![
                "New two-factor recovery codes were made for your Keyport account. The old ones no longer work.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
        Mail::TwoFactorReset(n) => Body {
            subject: "An administrator turned off two-factor sign-in for your Keyport account".into(),
            paragraphs: vec![
                "An administrator of this Keyport instance turned off two-factor sign-in for your account: signing in now needs only your password. Set it up again from your account page.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
        Mail::Event(e) => event_body(e, base),
        Mail::OrgInvitation {
            token,
            org_name,
            inviter,
            role,
            valid_days,
        } => Body {
            subject: format!("You are invited to join {org_name} on Keyport"),
            paragraphs: vec![format!(
                "{inviter} invited you to join the organization {org_name} on Keyport as {role}. To accept, open this link and sign in with this address:"
            )],
            action: Some((
                "Accept the invitation",
                format!("{base}/invitations/{}", url_encode(token, false)),
            )),
            details: vec![],
            closing: format!(
                "The link works once, for {valid_days} days. If you do not expect it, ignore this message."
            ),
        },
        Mail::RecoveryCodeUsed(n) => Body {
            subject: "A recovery code was used to sign in to Keyport".into(),
            paragraphs: vec![
                "Someone signed in to your Keyport account with one of your recovery codes. That code no longer works.".into(),
            ],
            action: None,
            details: notice_details(n),
            closing: not_you(base),
        },
    }
}

/// An event's link as an absolute URL: portal paths under the public URL, https URLs as they
/// are; nothing for anything else (`javascript:`, `//host`, plain http).
fn event_link(link: &str, base: &str) -> Option<String> {
    let link = link.trim();
    if link.starts_with('/') && !link.starts_with("//") && !link.contains('\\') {
        Some(format!("{base}{link}"))
    } else if link.starts_with("https://") && !link.chars().any(char::is_whitespace) {
        Some(link.to_string())
    } else {
        None
    }
}

fn event_body(e: &EventNotice, base: &str) -> Body {
    // Titles and texts come from events (an admin's broadcast, a key's name): cut to size.
    // A subject is one line: control characters (line breaks) become spaces.
    let title: String = e
        .title
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let label =
        crate::domain::notification_prefs::event_type(&e.kind).map_or("this event", |t| t.label);
    Body {
        subject: title,
        paragraphs: vec![e.body.chars().take(4000).collect()],
        action: event_link(&e.link, base).map(|url| ("Open in Keyport", url)),
        details: vec![],
        closing: format!(
            "You get this mail because mail about “{label}” is on in your notification preferences."
        ),
    }
}

/// The message for `to`, links under `public_url`.
pub fn render(mail: &Mail, to: &Recipient, public_url: &str) -> Rendered {
    let b = body(mail, public_url);
    // Mail a user chose to get says where to choose otherwise.
    let manage = matches!(mail, Mail::Event(_))
        .then(|| format!("{}/account/notifications", public_url.trim_end_matches('/')));
    let greeting = if to.name.trim().is_empty() {
        "Hello,".to_string()
    } else {
        format!("Hello {},", to.name.trim())
    };
    Rendered {
        text: text_of(&b, &greeting, manage.as_deref()),
        html: html_of(&b, &greeting, manage.as_deref()),
        subject: b.subject,
    }
}

fn text_of(b: &Body, greeting: &str, manage: Option<&str>) -> String {
    let mut out = format!("{greeting}\n\n");
    for p in &b.paragraphs {
        out.push_str(p);
        out.push_str("\n\n");
    }
    if let Some((_, url)) = &b.action {
        out.push_str(url);
        out.push_str("\n\n");
    }
    for (label, value) in &b.details {
        out.push_str(&format!("{label}: {value}\n"));
    }
    if !b.details.is_empty() {
        out.push('\n');
    }
    out.push_str(&b.closing);
    out.push_str("\n\n-- \nKeyport\n");
    if let Some(url) = manage {
        out.push_str(&format!("Manage which mails you get: {url}\n"));
    }
    out
}

fn html_of(b: &Body, greeting: &str, manage: Option<&str>) -> String {
    let mut main = format!("<p>{}</p>\n", escape_html(greeting));
    for p in &b.paragraphs {
        main.push_str(&format!("<p>{}</p>\n", escape_html(p)));
    }
    if let Some((label, url)) = &b.action {
        let url = escape_html(url);
        main.push_str(&format!(
            "<p><a href=\"{url}\" style=\"display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;border-radius:6px;text-decoration:none;font-weight:600\">{}</a></p>\n\
             <p style=\"font-size:13px;color:#555555\">Or copy this address into your browser:<br><span style=\"word-break:break-all\">{url}</span></p>\n",
            escape_html(label)
        ));
    }
    if !b.details.is_empty() {
        main.push_str(
            "<table role=\"presentation\" style=\"border-collapse:collapse;font-size:14px\">\n",
        );
        for (label, value) in &b.details {
            main.push_str(&format!(
                "<tr><td style=\"padding:2px 12px 2px 0;color:#555555\">{}</td><td>{}</td></tr>\n",
                escape_html(label),
                escape_html(value)
            ));
        }
        main.push_str("</table>\n");
    }
    main.push_str(&format!(
        "<p style=\"font-size:13px;color:#555555\">{}</p>\n",
        escape_html(&b.closing)
    ));
    let footer = match manage {
        Some(url) => format!(
            "Keyport · <a href=\"{}\" style=\"color:#888888\">Manage which mails you get</a>",
            escape_html(url)
        ),
        None => "Keyport".to_string(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{}</title></head>\n\
         <body style=\"margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#111111\">\n\
         <div style=\"max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px\">\n\
         {main}</div>\n<p style=\"text-align:center;font-size:12px;color:#888888\">{footer}</p>\n</body>\n</html>\n",
        escape_html(&b.subject)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://keys.example.com";

    fn hostile() -> Recipient {
        Recipient {
            email: "ada@example.com".into(),
            name: "<script>alert('x')</script> & \"Ada\"".into(),
        }
    }

    fn notice() -> Notice {
        Notice {
            at: time::macros::datetime!(2026-12-03 16:50:12 UTC),
            ip: "203.0.113.7".into(),
            user_agent: "<img src=x onerror=alert(1)>".into(),
        }
    }

    #[test]
    fn html_escapes_every_interpolated_value() {
        for mail in [
            Mail::PasswordReset {
                token: "tok\"><b>".into(),
                valid_minutes: 60,
            },
            Mail::PasswordChanged(notice()),
            Mail::RecoveryCodeUsed(notice()),
        ] {
            let r = render(&mail, &hostile(), BASE);
            assert!(!r.html.contains("<script>"), "{}", r.html);
            assert!(!r.html.contains("<img"), "{}", r.html);
            assert!(!r.html.contains("<b>"), "{}", r.html);
            assert!(
                r.html.contains(
                    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Ada&quot;"
                ),
                "{}",
                r.html
            );
            // The text body is plain text: shown as is, never interpreted.
            assert!(
                r.text
                    .contains("Hello <script>alert('x')</script> & \"Ada\",")
            );
        }
    }

    #[test]
    fn reset_links_point_at_the_public_url_with_the_token_encoded() {
        let mail = Mail::PasswordReset {
            token: "AbC-_09".into(),
            valid_minutes: 60,
        };
        let r = render(&mail, &hostile(), "https://keys.example.com/");
        let link = "https://keys.example.com/reset-password?token=AbC-_09";
        assert!(r.text.contains(&format!("\n{link}\n")), "{}", r.text);
        assert!(r.html.contains(&format!("href=\"{link}\"")), "{}", r.html);
        assert_eq!(r.subject, "Reset your Keyport password");
        assert!(r.text.contains("60 minutes"));
        assert_eq!(
            token_link(BASE, "/verify-email", "a b&c"),
            "https://keys.example.com/verify-email?token=a%20b%26c"
        );
        let r = render(
            &Mail::VerifyEmail {
                token: "t1".into(),
                valid_hours: 48,
            },
            &hostile(),
            BASE,
        );
        assert!(
            r.text
                .contains("https://keys.example.com/verify-email?token=t1")
        );
    }

    #[test]
    fn notices_tell_when_where_and_what_to_do() {
        let r = render(&Mail::TwoFactorDisabled(notice()), &hostile(), BASE);
        assert_eq!(
            r.subject,
            "Two-factor sign-in is off for your Keyport account"
        );
        assert!(r.text.contains("When: 2026-12-03 16:50 UTC"), "{}", r.text);
        assert!(r.text.contains("IP address: 203.0.113.7"));
        assert!(r.text.contains("https://keys.example.com/forgot-password"));
        let quiet = Notice {
            ip: String::new(),
            user_agent: String::new(),
            ..notice()
        };
        let r = render(&Mail::TwoFactorEnabled(quiet), &hostile(), BASE);
        assert!(!r.text.contains("IP address"));
        assert!(!r.text.contains("Device"));
        let nameless = Recipient {
            email: "a@b.co".into(),
            name: " ".into(),
        };
        assert!(
            render(&Mail::PasswordChanged(notice()), &nameless, BASE)
                .text
                .starts_with("Hello,\n")
        );
    }

    #[test]
    fn kinds_are_distinct() {
        let kinds = [
            Mail::PasswordReset {
                token: String::new(),
                valid_minutes: 1,
            }
            .kind(),
            Mail::VerifyEmail {
                token: String::new(),
                valid_hours: 1,
            }
            .kind(),
            Mail::PasswordChanged(notice()).kind(),
            Mail::TwoFactorEnabled(notice()).kind(),
            Mail::TwoFactorDisabled(notice()).kind(),
            Mail::RecoveryCodeUsed(notice()).kind(),
            Mail::RecoveryCodesReplaced(notice()).kind(),
            Mail::TwoFactorReset(notice()).kind(),
        ];
        let unique: std::collections::HashSet<_> = kinds.iter().collect();
        assert_eq!(unique.len(), kinds.len());
    }
}
