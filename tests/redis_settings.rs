//! `GEWE_STORE=redis://…` in `Settings::from_env`: the deployment's name is required, bad
//! values are errors naming the variable, and the URL's password stays out of messages. The
//! only test of this binary: it sets the environment of its own process.

use gewe::bot::Settings;

#[test]
fn a_redis_store_from_the_environment() {
    std::env::set_var("GEWE_TOKEN", "token");
    std::env::set_var("GEWE_CALLBACK_URL", "https://bot.example.com/gewe");
    std::env::set_var("GEWE_STORE", "redis://:hunter2@127.0.0.1:6379/0");
    std::env::remove_var("GEWE_DEPLOYMENT");
    let error = Settings::from_env().expect_err("no GEWE_DEPLOYMENT");
    assert!(
        error.to_string().starts_with("GEWE_DEPLOYMENT is not set"),
        "{error}"
    );

    std::env::set_var("GEWE_DEPLOYMENT", "shop");
    std::env::set_var("GEWE_DEDUP_DAYS", "0");
    let error = Settings::from_env().expect_err("0 days");
    assert!(
        error.to_string().starts_with("GEWE_DEDUP_DAYS=\"0\""),
        "{error}"
    );

    std::env::set_var("GEWE_DEDUP_DAYS", "3");
    let settings = Settings::from_env().expect("a Redis store");
    let shown = format!("{settings:?}");
    assert!(
        shown.contains("redis://127.0.0.1:6379/0") && shown.contains("\"shop\""),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");

    // The workers' settings: each bad value named; a worker needs no callback URL.
    for (name, bad) in [
        ("GEWE_ROLE", "leader"),
        ("GEWE_PARTITIONS", "0"),
        ("GEWE_LEASE_SECS", "-1"),
        ("GEWE_CLAIM_AFTER_SECS", "soon"),
        ("GEWE_SEND_TURN_SECS", "0"),
    ] {
        std::env::set_var(name, bad);
        let error = Settings::from_env().expect_err(name);
        assert!(
            error.to_string().starts_with(&format!("{name}=\"{bad}\"")),
            "{error}"
        );
        std::env::remove_var(name);
    }
    std::env::set_var("GEWE_ROLE", "worker");
    std::env::set_var("GEWE_PARTITIONS", "8");
    std::env::set_var("GEWE_LEASE_SECS", "1.5");
    std::env::remove_var("GEWE_CALLBACK_URL");
    let shown = format!("{:?}", Settings::from_env().expect("a worker"));
    assert!(
        shown.contains("role: Worker") && shown.contains("partitions: Some(8)"),
        "{shown}"
    );
    assert!(shown.contains("lease: Some(1.5s)"), "{shown}");
    std::env::set_var("GEWE_ROLE", "ingress");
    let error = Settings::from_env().expect_err("an ingress serves the webhook");
    assert!(
        error
            .to_string()
            .starts_with("GEWE_CALLBACK_URL is not set"),
        "{error}"
    );
    for name in ["GEWE_ROLE", "GEWE_PARTITIONS", "GEWE_LEASE_SECS"] {
        std::env::remove_var(name);
    }
    std::env::set_var("GEWE_CALLBACK_URL", "https://bot.example.com/gewe");

    std::env::set_var("GEWE_STORE", "memcached://:hunter2@127.0.0.1/");
    let error = Settings::from_env().expect_err("not Redis");
    let text = error.to_string();
    assert!(
        text.starts_with("GEWE_STORE=") && text.contains("redis://"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
