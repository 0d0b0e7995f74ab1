//! The settings read from an environment of the test's own.

use super::*;
use std::collections::HashMap;

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|name| env.get(name).cloned())
}

const DB: (&str, &str) = ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/app");
const SECRET: &str = "0123456789012345678901234567890123456789012345678901234567890123456789";

#[test]
fn defaults_match_the_runbook() {
    let s = settings(&[DB]).unwrap();
    assert_eq!(s.environment, Environment::Development);
    assert_eq!(s.pool_size, 10);
    assert_eq!(s.max_concurrent_backtests, 5);
    assert_eq!(s.autosave_interval_ms, 30_000);
    assert_eq!(s.port, None);
    assert!(!s.cookie_secure);
    assert!(s.smtp.is_none());
    assert!(s.trusted_proxies.is_empty());
    assert!(!s.dev_mailbox);
}

#[test]
fn a_missing_database_url_names_the_setting() {
    let error = settings(&[]).unwrap_err();
    assert_eq!(error.name, "DATABASE_URL");
    assert!(error
        .to_string()
        .starts_with("configuration error: DATABASE_URL"));
}

#[test]
fn a_malformed_number_names_the_setting_and_the_range() {
    let error = settings(&[DB, ("POOL_SIZE", "ten")]).unwrap_err();
    assert_eq!(error.name, "POOL_SIZE");
    assert!(error.problem.contains("1 to 1000"), "{}", error.problem);
    assert_eq!(settings(&[DB, ("PORT", "70000")]).unwrap_err().name, "PORT");
}

#[test]
fn production_refuses_to_start_without_a_long_secret_key_base() {
    let prod = ("APP_ENV", "production");
    let host = ("PHX_HOST", "example.com");
    assert_eq!(
        settings(&[DB, prod, host]).unwrap_err().name,
        "SECRET_KEY_BASE"
    );
    assert_eq!(
        settings(&[DB, prod, host, ("SECRET_KEY_BASE", "short")])
            .unwrap_err()
            .name,
        "SECRET_KEY_BASE"
    );
    let s = settings(&[DB, prod, host, ("SECRET_KEY_BASE", SECRET)]).unwrap();
    assert_eq!(s.port, Some(4000));
    assert!(s.cookie_secure);
    assert_eq!(s.public_url, "https://example.com");
}

#[test]
fn mix_env_prod_counts_as_production() {
    let error = settings(&[DB, ("MIX_ENV", "prod"), ("PHX_HOST", "example.com")]).unwrap_err();
    assert_eq!(error.name, "SECRET_KEY_BASE");
}

#[test]
fn development_without_a_secret_gets_a_random_one_each_time() {
    let a = settings(&[DB]).unwrap().secret_key_base;
    let b = settings(&[DB]).unwrap().secret_key_base;
    assert!(a.expose().len() >= 64);
    assert_ne!(a, b);
}

#[test]
fn derived_keys_differ_by_purpose_salt_and_secret() {
    let base = settings(&[DB, ("SECRET_KEY_BASE", SECRET)]).unwrap();
    let salted = settings(&[
        DB,
        ("SECRET_KEY_BASE", SECRET),
        ("LIVE_VIEW_SIGNING_SALT", "pepper"),
    ])
    .unwrap();
    assert_eq!(
        base.derive_key("session cookie"),
        base.derive_key("session cookie")
    );
    assert_ne!(base.derive_key("session cookie"), base.derive_key("other"));
    assert_ne!(
        base.derive_key("session cookie"),
        salted.derive_key("session cookie")
    );
    let other_secret = settings(&[DB]).unwrap();
    assert_ne!(
        base.derive_key("session cookie"),
        other_secret.derive_key("session cookie")
    );
}

#[test]
fn secrets_never_print() {
    let s = settings(&[
        DB,
        ("SECRET_KEY_BASE", SECRET),
        ("SMTP_HOST", "mail"),
        ("SMTP_PASSWORD", "hunter2"),
    ])
    .unwrap();
    let printed = format!("{s:?}");
    assert!(!printed.contains(SECRET));
    assert!(!printed.contains("hunter2"));
    assert!(!printed.contains("postgres://"));
}

#[test]
fn app_host_is_accepted_for_phx_host_and_keeps_the_development_port() {
    let s = settings(&[DB, ("APP_HOST", "localhost"), ("PORT", "3000")]).unwrap();
    assert_eq!(s.public_url, "http://localhost:3000");
    let s = settings(&[DB, ("PHX_HOST", "https://trade.example.com/")]).unwrap();
    assert_eq!(s.public_url, "https://trade.example.com");
    assert_eq!(
        settings(&[DB, ("PHX_HOST", "bad host!")]).unwrap_err().name,
        "PHX_HOST"
    );
}

#[test]
fn smtp_settings_come_together() {
    let s = settings(&[
        DB,
        ("SMTP_HOST", "smtp.example.com"),
        ("SMTP_USERNAME", "apikey"),
    ])
    .unwrap();
    let smtp = s.smtp.unwrap();
    assert_eq!(smtp.port, 587);
    assert_eq!(smtp.username.as_deref(), Some("apikey"));
    assert_eq!(
        settings(&[DB, ("SMTP_HOST", "h"), ("SMTP_PORT", "x")])
            .unwrap_err()
            .name,
        "SMTP_PORT"
    );
    assert!(starttls_with(&[]));
    assert!(!starttls_with(&[("SMTP_STARTTLS", "false")]));
}

fn starttls_with(extra: &[(&str, &str)]) -> bool {
    let mut pairs = vec![DB, ("SMTP_HOST", "localhost")];
    pairs.extend_from_slice(extra);
    settings(&pairs).unwrap().smtp.unwrap().starttls
}

#[test]
fn production_refuses_plain_smtp() {
    let pairs = [
        DB,
        ("APP_ENV", "production"),
        ("PHX_HOST", "example.com"),
        ("SECRET_KEY_BASE", SECRET),
        ("SMTP_HOST", "smtp.example.com"),
        ("SMTP_STARTTLS", "false"),
    ];
    assert_eq!(settings(&pairs).unwrap_err().name, "SMTP_STARTTLS");
}

#[test]
fn trusted_proxies_are_addresses_or_cidr_ranges() {
    let s = settings(&[
        DB,
        ("TRUSTED_PROXIES", "127.0.0.1, ::1,10.0.0.0/8 ,fd00::/8"),
    ])
    .unwrap();
    let trusted = |ip: &str| {
        s.trusted_proxies
            .iter()
            .any(|r| r.contains(ip.parse().unwrap()))
    };
    assert!(trusted("127.0.0.1"));
    assert!(!trusted("127.0.0.2"));
    assert!(trusted("::1"));
    assert!(trusted("10.200.3.4"));
    assert!(!trusted("11.0.0.1"));
    assert!(trusted("fd12::1"));
    assert!(trusted("::ffff:10.1.1.1"));
    assert_eq!(
        settings(&[DB, ("TRUSTED_PROXIES", "10.0.0.0/33")])
            .unwrap_err()
            .name,
        "TRUSTED_PROXIES"
    );
    assert!(IpRange::parse("0.0.0.0/0")
        .unwrap()
        .contains("8.8.8.8".parse().unwrap()));
}

#[test]
fn metrics_need_a_long_token_or_a_separate_address() {
    let s = settings(&[DB]).unwrap();
    assert!(s.metrics_token.is_none() && s.metrics_addr.is_none());
    let long = "m".repeat(32);
    let s = settings(&[
        DB,
        ("METRICS_TOKEN", long.as_str()),
        ("METRICS_ADDR", "127.0.0.1:9100"),
    ])
    .unwrap();
    assert_eq!(s.metrics_token.unwrap().expose(), long);
    assert_eq!(s.metrics_addr.unwrap().port(), 9100);
    assert_eq!(
        settings(&[DB, ("METRICS_TOKEN", "short")])
            .unwrap_err()
            .name,
        "METRICS_TOKEN"
    );
    assert_eq!(
        settings(&[DB, ("METRICS_ADDR", "9100")]).unwrap_err().name,
        "METRICS_ADDR"
    );
}

#[test]
fn time_limits_have_defaults_and_can_be_set() {
    let s = settings(&[DB]).unwrap();
    assert_eq!(s.limits.request, Duration::from_secs(30));
    assert_eq!(s.limits.header_read, Duration::from_secs(10));
    assert_eq!(s.limits.statement, Duration::from_secs(15));
    assert_eq!(s.limits.pool_acquire, Duration::from_secs(5));
    let s = settings(&[
        DB,
        ("REQUEST_TIMEOUT_SECS", "5"),
        ("DB_ACQUIRE_TIMEOUT_MS", "250"),
    ])
    .unwrap();
    assert_eq!(s.limits.request, Duration::from_secs(5));
    assert_eq!(s.limits.pool_acquire, Duration::from_millis(250));
    assert_eq!(
        settings(&[DB, ("DB_STATEMENT_TIMEOUT_MS", "0")])
            .unwrap_err()
            .name,
        "DB_STATEMENT_TIMEOUT_MS"
    );
}
