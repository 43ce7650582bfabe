//! Organizations in the portal, as a browser without JavaScript uses them: create an org,
//! invite by the mailed link, accept on the invitation page, switch the active org (which
//! then narrows /keys and preselects the owner of a new key), delete with a typed
//! confirmation; and the access matrix of every org server function for seven actors.

use crate::harness::*;
use crate::mail::server_mailing_to;
use crate::orgs::{invitation_token, json_of};
use crate::orgs_access::{ACTORS, cast};
use crate::smtp::SmtpServer;
use serde_json::json;

const PASSWORD: &str = "long-enough-pw";

/// What a no-JavaScript form post to a server function came to: `Ok(location)`, or the
/// error code carried back in the redirect's `__err` (base64 of the contract's error body).
pub fn outcome(res: &reqwest::Response) -> Result<String, String> {
    use base64::Engine;
    let loc = location(res);
    let Some(i) = loc.find("__err=") else {
        return Ok(loc);
    };
    let raw = percent_decode(loc[i + "__err=".len()..].split('&').next().unwrap());
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(raw.trim()))
        .unwrap_or_else(|e| panic!("__err is not base64 ({e}): {raw}"));
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    Err(body["code"].as_str().unwrap().to_string())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn org_id_of(location: &str) -> i64 {
    location
        .trim_start_matches("/orgs/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no org id in {location}"))
}

#[tokio::test]
async fn orgs_in_the_portal_invite_accept_switch_and_delete() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let api = server.api();
    let alice_api = user_token(&api, "alice@example.com").await;
    let bob_api = user_token(&api, "bob@example.com").await;
    let alice = signed_in_browser(&server, "alice@example.com", PASSWORD).await;
    let bob = signed_in_browser(&server, "bob@example.com", PASSWORD).await;

    // No org yet: an empty state, and no switcher in the top bar.
    let html = page_html(&alice, "/orgs").await;
    assert!(html.contains("No organizations yet"));
    assert!(!html.contains("id=\"active-org\""));

    // Bad names change nothing; a good one makes alice the owner.
    let res = alice
        .form("/sfn/create_org", &[("name", "  "), ("slug", "")])
        .await;
    assert_eq!(outcome(&res), Err("VALIDATION_ERROR".into()));
    let res = alice
        .form(
            "/sfn/create_org",
            &[("name", "Acme <b>Corp</b>"), ("slug", "")],
        )
        .await;
    let loc = outcome(&res).unwrap();
    assert!(loc.ends_with("?created=1"), "{loc}");
    let org = org_id_of(&loc);
    let html = page_html(&alice, &loc).await;
    assert!(html.contains("Organization created."));
    assert!(
        html.contains("Acme &lt;b&gt;Corp&lt;/b&gt;"),
        "names are escaped"
    );
    assert!(html.contains(">Owner<"));
    assert!(html.contains("Send invitation"));
    let html = page_html(&alice, "/orgs").await;
    assert!(html.contains(&format!("href=\"/orgs/{org}\"")));
    assert!(html.contains("id=\"active-org\""), "the switcher appears");

    // Invite bob; the mailed link opens the invitation page; a stranger's page says so.
    let res = alice
        .form(
            "/sfn/invite_to_org",
            &[
                ("id", &org.to_string()),
                ("email", "not-an-email"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(outcome(&res), Err("VALIDATION_ERROR".into()));
    let res = alice
        .form(
            "/sfn/invite_to_org",
            &[
                ("id", &org.to_string()),
                ("email", "bob@example.com"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(outcome(&res).unwrap(), format!("/orgs/{org}?invited=1"));
    let html = page_html(&alice, &format!("/orgs/{org}?invited=1")).await;
    assert!(
        html.contains("bob@example.com"),
        "pending invitation listed"
    );
    let token = invitation_token(&server, &smtp, 1).await;
    let html = page_html(&bob, &format!("/invitations/{token}")).await;
    assert!(html.contains("You are invited to join Acme &lt;b&gt;Corp&lt;/b&gt; as member."));
    let html = page_html(&alice, &format!("/invitations/{token}")).await;
    assert!(html.contains("You are signed in as alice@example.com"));
    let res = alice
        .form("/sfn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(outcome(&res), Err("INVITATION_EMAIL_MISMATCH".into()));
    let html = page_html(&bob, "/invitations/not-a-real-token").await;
    assert!(html.contains("This invitation link is not valid"));
    let nobody = server.browser();
    let res = nobody.get(&format!("/invitations/{token}")).await;
    assert!(location(&res).starts_with("/login?next=/invitations/"));

    // Accepting joins bob and makes the org his active one.
    let res = bob
        .form("/sfn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(outcome(&res).unwrap(), format!("/orgs/{org}?joined=1"));
    let res = bob
        .form("/sfn/accept_invitation", &[("token", &token)])
        .await;
    assert_eq!(
        outcome(&res),
        Err("INVITATION_INVALID".into()),
        "single use"
    );
    let html = page_html(&bob, &format!("/orgs/{org}?joined=1")).await;
    assert!(html.contains("Welcome!") && html.contains("Leave…"));
    assert!(!html.contains("Send invitation"), "members do not invite");
    let html = page_html(&bob, "/keys/new").await;
    assert!(
        html.contains(&format!("<option value=\"{org}\" selected")),
        "the active org is preselected as the new key's owner"
    );

    // Bob creates an org key in the portal; alice has a personal key.
    let res = bob
        .form(
            "/sfn/create_key",
            &[("name", "team key"), ("org_id", &org.to_string())],
        )
        .await;
    assert!(location(&res).starts_with("/keys/"), "{}", location(&res));
    create(&api, &alice_api, json!({"name": "alice personal"})).await;
    let res = bob
        .form("/sfn/create_key", &[("name", "bad owner"), ("org_id", "x")])
        .await;
    assert_eq!(outcome(&res), Err("VALIDATION_ERROR".into()));

    // Alice switches to the org: /keys shows its keys only, until she picks "all".
    let html = page_html(&alice, "/keys").await;
    assert!(html.contains("alice personal") && html.contains("team key"));
    let res = alice
        .form(
            "/sfn/switch_org",
            &[("org_id", &org.to_string()), ("next", "/keys")],
        )
        .await;
    assert_eq!(outcome(&res).unwrap(), "/keys");
    let html = page_html(&alice, "/keys").await;
    assert!(html.contains("team key") && !html.contains("alice personal"));
    assert!(html.contains(&format!("<option value=\"{org}\" selected")));
    let html = page_html(&alice, "/keys?org=all").await;
    assert!(html.contains("team key") && html.contains("alice personal"));
    // Only local paths are returned to; an org one is not in is refused.
    let res = alice
        .form(
            "/sfn/switch_org",
            &[("org_id", ""), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(outcome(&res).unwrap(), "/keys");
    let res = alice
        .form(
            "/sfn/switch_org",
            &[("org_id", ""), ("next", "/keys\r\nSet-Cookie: x=1")],
        )
        .await;
    assert_eq!(outcome(&res).unwrap(), "/keys", "no header injection");
    let html = page_html(&alice, "/keys").await;
    assert!(html.contains("alice personal"), "back to everything");
    let other = json_of(
        api.post_auth("/api/v1/orgs", &bob_api, json!({"name": "Bob's own"}))
            .await,
        201,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for id in [other.to_string(), "999999".into(), "abc".into()] {
        let res = alice
            .form("/sfn/switch_org", &[("org_id", &id), ("next", "/keys")])
            .await;
        assert_eq!(outcome(&res), Err("NOT_FOUND".into()), "{id}");
    }

    // Roles: alice makes bob an admin; bob cannot touch the owner's role.
    let bob_id = crate::orgs::user_id(&api, &bob_api).await;
    let alice_id = crate::orgs::user_id(&api, &alice_api).await;
    let fields = |user: i64, role: &str| {
        vec![
            ("id".to_string(), org.to_string()),
            ("user_id".to_string(), user.to_string()),
            ("role".to_string(), role.to_string()),
        ]
    };
    let post = |b: &Browser, f: Vec<(String, String)>| {
        let b = Browser {
            base: b.base.clone(),
            http: b.http.clone(),
        };
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b.form("/sfn/change_org_member", &f).await
        }
    };
    let res = post(&alice, fields(bob_id, "admin")).await;
    assert_eq!(outcome(&res).unwrap(), format!("/orgs/{org}?members=1"));
    let res = post(&bob, fields(alice_id, "member")).await;
    assert_eq!(outcome(&res), Err("FORBIDDEN".into()));
    let res = post(&alice, fields(alice_id, "member")).await;
    assert_eq!(outcome(&res), Err("LAST_OWNER".into()));
    let res = post(&alice, fields(bob_id, "emperor")).await;
    assert_eq!(outcome(&res), Err("VALIDATION_ERROR".into()));

    // Deleting needs the slug typed, and no live key; bob leaves first.
    let slug = json_of(
        api.get(&format!("/api/v1/orgs/{org}"), Some(&alice_api))
            .await,
        200,
    )
    .await["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let org_s = org.to_string();
    let res = bob
        .form("/sfn/delete_org", &[("id", &org_s), ("confirm", &slug)])
        .await;
    assert_eq!(
        outcome(&res),
        Err("FORBIDDEN".into()),
        "admins do not delete"
    );
    let res = alice
        .form("/sfn/delete_org", &[("id", &org_s), ("confirm", "nope")])
        .await;
    assert_eq!(outcome(&res), Err("VALIDATION_ERROR".into()));
    let res = alice
        .form("/sfn/delete_org", &[("id", &org_s), ("confirm", &slug)])
        .await;
    assert_eq!(outcome(&res), Err("ORG_HAS_KEYS".into()));
    let res = post(&bob, fields(bob_id, "remove")).await;
    assert_eq!(outcome(&res).unwrap(), "/orgs?left=1");
    let res = bob.get(&format!("/orgs/{org}")).await;
    assert_eq!(res.status(), 404, "a former member sees nothing");
    let keys = json_of(api.get("/api/v1/keys", Some(&alice_api)).await, 200).await;
    let team_key = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "team key")
        .unwrap()["id"]
        .clone();
    json_of(
        api.post_auth(
            &format!("/api/v1/keys/{team_key}/revoke"),
            &alice_api,
            json!({}),
        )
        .await,
        200,
    )
    .await;
    let res = alice
        .form("/sfn/delete_org", &[("id", &org_s), ("confirm", &slug)])
        .await;
    assert_eq!(outcome(&res).unwrap(), "/orgs?deleted=1");
    let res = alice.get(&format!("/orgs/{org}")).await;
    assert_eq!(res.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn access_matrix_of_org_server_functions() {
    let smtp = SmtpServer::start().await;
    let server = server_mailing_to(&smtp.url()).await;
    let c = cast(&server, &smtp).await;
    let (org, target) = (c.org.to_string(), c.target.to_string());
    // Columns as ACTORS: anonymous, gviewer, user, oviewer, omember, oadmin, gadmin.
    const OK: &str = "ok";
    const UN: &str = "UNAUTHORIZED";
    const NF: &str = "NOT_FOUND";
    const FB: &str = "FORBIDDEN";
    let rows: Vec<(&str, Vec<(&str, &str)>, [&str; 7])> = vec![
        (
            "orgs_page",
            vec![("page", "1")],
            [UN, OK, OK, OK, OK, OK, OK],
        ),
        ("org_switcher", vec![], [UN, OK, OK, OK, OK, OK, OK]),
        (
            "org_screen",
            vec![("id", &org)],
            [UN, NF, NF, OK, OK, OK, OK],
        ),
        (
            "switch_org",
            vec![("org_id", &org), ("next", "/keys")],
            [UN, NF, NF, OK, OK, OK, OK],
        ),
        (
            "rename_org",
            vec![("id", &org), ("name", "Matrix")],
            [UN, NF, NF, FB, FB, OK, OK],
        ),
        (
            "invite_to_org",
            vec![
                ("id", &org),
                ("email", "new@example.com"),
                ("role", "member"),
            ],
            [UN, NF, NF, FB, FB, OK, OK],
        ),
        (
            "revoke_org_invitation",
            vec![("id", &org), ("invitation_id", "999999")],
            [UN, NF, NF, FB, FB, NF, NF],
        ),
        (
            "change_org_member",
            vec![("id", &org), ("user_id", &target), ("role", "member")],
            [UN, NF, NF, FB, FB, OK, OK],
        ),
        (
            "delete_org",
            vec![("id", &org), ("confirm", "wrong-slug")],
            [UN, NF, NF, FB, FB, FB, "VALIDATION_ERROR"],
        ),
        (
            "create_org",
            vec![("name", "Another {actor}")],
            [UN, FB, OK, OK, OK, OK, OK],
        ),
        (
            "accept_invitation",
            vec![("token", "bogus")],
            [
                UN,
                "INVITATION_INVALID",
                "INVITATION_INVALID",
                "INVITATION_INVALID",
                "INVITATION_INVALID",
                "INVITATION_INVALID",
                "INVITATION_INVALID",
            ],
        ),
    ];
    let mut browsers = Vec::new();
    for name in ACTORS {
        browsers.push(match name {
            "anonymous" => server.browser(),
            _ => signed_in_browser(&server, &format!("{name}@example.com"), PASSWORD).await,
        });
    }
    for (endpoint, fields, expected) in &rows {
        for (i, name) in ACTORS.iter().enumerate() {
            // `{actor}` makes a value unique per caller (org slugs are unique).
            let fields: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| (*k, v.replace("{actor}", name)))
                .collect();
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = browsers[i].form(&format!("/sfn/{endpoint}"), &fields).await;
            let got = match outcome(&res) {
                Ok(_) => OK.to_string(),
                Err(code) => code,
            };
            assert_eq!(got, expected[i], "{name} calls {endpoint}");
        }
    }
    // The org pages follow the same rules.
    for (i, name) in ACTORS.iter().enumerate() {
        let res = browsers[i].get(&format!("/orgs/{org}")).await;
        let expected = match *name {
            "anonymous" => 302,
            "gviewer" | "user" => 404,
            _ => 200,
        };
        assert_eq!(res.status().as_u16(), expected, "{name} opens the org page");
    }
    server.stop().await;
}
