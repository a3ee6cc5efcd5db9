use serde_json::json;

use super::*;

#[test]
fn sensitive_headers_cookies_and_keys_anywhere_are_filtered() {
    let mut event = json!({
        "request": {
            "url": "https://shop.example.com/pay?token=abc123&page=2",
            "query_string": "api_key=k1&q=shoes",
            "headers": {"Authorization": "Bearer eyJhbGciOi", "Cookie": "sid=s3cr3t", "X-Api-Key": "k2", "Accept": "*/*"},
            "cookies": {"sid": "s3cr3t"},
            "data": {"user": {"password": "hunter2", "name": "Ann"}, "card": {"cvv": "123"}},
            "env": {"REMOTE_ADDR": "203.0.113.9"}
        },
        "extra": {"db": {"mysql_pwd": "p", "client_secret": "c", "github-token": "gho_x"}},
        "contexts": {"headers": [["set-cookie", "a=b"], ["content-type", "text/html"]]},
        "breadcrumbs": [{"message": "GET /x with Authorization: Bearer abc.def, retried"}],
        "user": {"id": "u-1", "email": "ann@example.com", "ip_address": "203.0.113.9"}
    });

    assert!(scrub(&mut event, Ips::Remove));

    let r = &event["request"];
    assert_eq!(
        r["url"],
        "https://shop.example.com/pay?token=[Filtered]&page=2"
    );
    assert_eq!(r["query_string"], "api_key=[Filtered]&q=shoes");
    assert_eq!(r["headers"]["Authorization"], FILTERED);
    assert_eq!(r["headers"]["Cookie"], FILTERED);
    assert_eq!(r["headers"]["X-Api-Key"], FILTERED);
    assert_eq!(r["headers"]["Accept"], "*/*");
    assert_eq!(r["cookies"], FILTERED);
    assert_eq!(r["data"]["user"]["password"], FILTERED);
    assert_eq!(r["data"]["user"]["name"], "Ann");
    assert_eq!(r["env"]["REMOTE_ADDR"], FILTERED);
    assert_eq!(
        event["extra"]["db"],
        json!({"mysql_pwd": FILTERED, "client_secret": FILTERED, "github-token": FILTERED})
    );
    assert_eq!(
        event["contexts"]["headers"],
        json!([["set-cookie", FILTERED], ["content-type", "text/html"]])
    );
    assert_eq!(
        event["breadcrumbs"][0]["message"],
        "GET /x with Authorization: Bearer [Filtered], retried"
    );
    assert_eq!(event["user"], json!({"id": "u-1", "email": FILTERED}));
}

#[test]
fn ips_are_kept_when_the_project_opted_in() {
    let mut event = json!({
        "user": {"ip_address": "203.0.113.9"},
        "request": {"headers": {"X-Forwarded-For": "203.0.113.9", "Authorization": "Basic dXNlcjpwYXNz"}}
    });

    scrub(&mut event, Ips::Keep);

    assert_eq!(event["user"]["ip_address"], "203.0.113.9");
    assert_eq!(
        event["request"]["headers"]["X-Forwarded-For"],
        "203.0.113.9"
    );
    assert_eq!(event["request"]["headers"]["Authorization"], FILTERED);
}

#[test]
fn a_native_events_user_id_is_kept_only_as_its_hash() {
    let mut event = json!({"error_message": "boom", "user_id": "ann@example.com", "metadata": {"session_key": "x"}});

    scrub(&mut event, Ips::Remove);

    assert_eq!(
        event,
        json!({"error_message": "boom", "user_id": FILTERED, "metadata": {"session_key": FILTERED}})
    );
}

#[test]
fn an_event_with_nothing_sensitive_is_left_alone_and_skipped_by_the_quick_check() {
    let text = r#"{"error_message":"boom","frames":[{"file_path":"app/x.py","line_number":3}]}"#;
    let mut event: Value = serde_json::from_str(text).unwrap();

    assert!(!might_need(text));
    assert!(!scrub(&mut event, Ips::Remove));
    assert!(might_need(r#"{"request":{"headers":{"Cookie":"a"}}}"#));
    assert!(might_need(r#"{"user":{"ip_address":"1.2.3.4"}}"#));
}

#[test]
fn the_user_hash_is_keyed_by_the_secret_and_scoped_to_the_project() {
    let a = UserHasher::new(&crate::config::SecretKey([1; 32]));
    let b = UserHasher::new(&crate::config::SecretKey([2; 32]));
    let unkeyed = crate::crypto::sha256(b"proj_1:ann@example.com");

    assert_eq!(
        a.hash("proj_1", "ann@example.com"),
        a.hash("proj_1", "ann@example.com")
    );
    assert_ne!(
        a.hash("proj_1", "ann@example.com"),
        b.hash("proj_1", "ann@example.com")
    );
    assert_ne!(
        a.hash("proj_1", "ann@example.com"),
        a.hash("proj_2", "ann@example.com")
    );
    assert_ne!(a.hash("proj_1", "ann@example.com"), unkeyed);
    assert_eq!(a.hash("proj_1", "x").len(), 32);
}
