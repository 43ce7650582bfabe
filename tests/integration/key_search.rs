//! Key search filters over REST (several tags, created range, expires_within, never_used,
//! sorting, invalid values) and saved filters.

use crate::harness::{TestServer, create, expect_error, user_token};
use serde_json::{Value, json};

async fn names(api: &crate::harness::Api, token: &str, query: &str) -> Vec<String> {
    let res = api.get(&format!("/api/v1/keys?{query}"), Some(token)).await;
    assert_eq!(res.status(), 200, "{query}");
    let page: Value = res.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn key_search_filters_and_sorts() {
    let server = TestServer::start().await;
    let api = server.api();
    let me = user_token(&api, "search@example.com").await;
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(60))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    create(
        &api,
        &me,
        json!({"name": "alpha", "tags": ["mobile", "beta"], "expires_at": soon}),
    )
    .await;
    create(
        &api,
        &me,
        json!({"name": "bravo", "tags": ["mobile"], "expires_at": later}),
    )
    .await;
    create(&api, &me, json!({"name": "charlie", "tags": ["web"]})).await;

    assert_eq!(names(&api, &me, "tag=mobile,beta").await, vec!["alpha"]);
    assert_eq!(
        names(&api, &me, "tag=mobile&sort=name").await,
        vec!["alpha", "bravo"]
    );
    assert_eq!(
        names(&api, &me, "sort=-name").await,
        vec!["charlie", "bravo", "alpha"]
    );
    assert_eq!(names(&api, &me, "expires_within=7d").await, vec!["alpha"]);
    assert_eq!(
        names(&api, &me, "sort=-expires_at").await,
        vec!["bravo", "alpha", "charlie"]
    );
    assert_eq!(names(&api, &me, "never_used=true&sort=name").await.len(), 3);
    assert_eq!(names(&api, &me, "created_to=2000-01-01").await.len(), 0);
    assert_eq!(names(&api, &me, "created_from=2000-01-01").await.len(), 3);
    assert_eq!(names(&api, &me, "org_id=5").await.len(), 0);

    for (query, field) in [
        ("status=bogus", "query.status"),
        ("sort=colour", "query.sort"),
        ("expires_within=soon", "query.expires_within"),
        ("created_from=yesterday", "query.created_from"),
    ] {
        let body = expect_error(
            api.get(&format!("/api/v1/keys?{query}"), Some(&me)).await,
            422,
            "VALIDATION_ERROR",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let res = api.get("/api/v1/keys?never_used=perhaps", Some(&me)).await;
    assert!(
        res.status() == 400 || res.status() == 422,
        "{}",
        res.status()
    );
    server.stop().await;
}

#[tokio::test]
async fn saved_filters_are_per_user() {
    let server = TestServer::start().await;
    let api = server.api();
    let me = user_token(&api, "saver@example.com").await;
    let other = user_token(&api, "other-saver@example.com").await;
    let path = "/api/v1/keys/saved-filters";
    let res = api
        .post_auth(
            path,
            &me,
            json!({"name": "Mobile", "query": "?tag=mobile&status=active"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let saved: Value = res.json().await.unwrap();
    assert_eq!(saved["query"], "tag=mobile&status=active");
    expect_error(
        api.post_auth(path, &me, json!({"name": "Mobile", "query": "tag=web"}))
            .await,
        409,
        "CONFLICT",
    )
    .await;
    expect_error(
        api.post_auth(path, &me, json!({"name": "Bad", "query": "status=bogus"}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    expect_error(
        api.post_auth(path, &me, json!({"name": 5, "query": "x"}))
            .await,
        422,
        "VALIDATION_ERROR",
    )
    .await;
    let mine: Value = api.get(path, Some(&me)).await.json().await.unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let theirs: Value = api.get(path, Some(&other)).await.json().await.unwrap();
    assert_eq!(theirs, json!([]));
    let id = saved["id"].as_i64().unwrap();
    let del = |token: String| {
        let api = api.http.clone();
        let url = server.url(&format!("{path}/{id}"));
        async move { api.delete(url).bearer_auth(token).send().await.unwrap() }
    };
    expect_error(del(other.clone()).await, 404, "NOT_FOUND").await;
    assert_eq!(del(me.clone()).await.status(), 204);
    server.stop().await;
}
