//! Typed settings read once from the environment (names as the deployment runbook has them).
//! A missing or malformed required setting stops start-up with one line that names it.

mod bounds;

use std::{fmt, net::IpAddr, time::Duration};

pub use crate::secrets::Secret;
pub use bounds::{Bounds, Quotas};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Always true in production; `SMTP_STARTTLS=false` allows the plain SMTP of a local
    /// test sink (MailDev) outside production.
    pub starttls: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub database_url: Secret,
    pub pool_size: u32,
    /// Scheme, host and port that users reach us at: links in mail and Origin checks use it.
    pub public_url: String,
    /// Overrides the port of the site address (production default 4000).
    pub port: Option<u16>,
    pub secret_key_base: Secret,
    /// Accepted for compatibility with the runbook; salts the key derivation from
    /// `secret_key_base`.
    pub signing_salt: Secret,
    pub smtp: Option<SmtpSettings>,
    pub mailer_from_email: String,
    pub mailer_from_name: String,
    pub max_concurrent_backtests: u32,
    pub autosave_interval_ms: u64,
    pub log_format: LogFormat,
    /// Logs are also appended to this file (the runbook tails /var/log/trading_strategy/prod.log).
    pub log_file: Option<std::path::PathBuf>,
    /// Marks cookies `Secure` (and `__Host-`); off only for plain-http local runs (never in
    /// production).
    pub cookie_secure: bool,
    /// The reverse proxies whose `X-Forwarded-For` entries are believed (`TRUSTED_PROXIES`:
    /// addresses or CIDR ranges, none by default).
    pub trusted_proxies: Vec<IpRange>,
    /// Serves `/dev/mailbox` (to loopback clients only) when `DEV_MAILBOX=true`; never in
    /// production.
    pub dev_mailbox: bool,
    /// `GET /metrics` on the public address answers only with `Authorization: Bearer <this>`
    /// (`METRICS_TOKEN`, at least 32 characters); without it the public address has no
    /// metrics at all.
    pub metrics_token: Option<Secret>,
    /// A second listener that serves only `/metrics` (`METRICS_ADDR`, such as
    /// `127.0.0.1:9100`), for a Prometheus on a private network; it asks for the token too
    /// when one is set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The time limits that keep one slow request, query or client from holding the server.
    pub limits: Limits,
    /// What one user, request, socket or job may cost (work pool, backtests, sockets, quotas).
    pub bounds: Bounds,
}

/// How long anything may take before it is given up with a sentence, never left to hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A whole request, from its headers to its answer (`REQUEST_TIMEOUT_SECS`, 30); then 503.
    pub request: std::time::Duration,
    /// A new request's headers must have arrived within this (`HEADER_READ_TIMEOUT_SECS`,
    /// 10); then the connection is closed.
    pub header_read: std::time::Duration,
    /// Postgres cancels any statement running longer (`DB_STATEMENT_TIMEOUT_MS`, 15000).
    pub statement: std::time::Duration,
    /// Waiting for a free connection of the pool (`DB_ACQUIRE_TIMEOUT_MS`, 5000); then 503.
    pub pool_acquire: std::time::Duration,
}

/// An address or a CIDR range (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().ok()?;
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().ok().filter(|p| *p <= width)?,
            None => width,
        };
        Some(IpRange { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - u32::from(prefix))
            }
        }
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                masked(u32::from(network).into(), 32, self.prefix)
                    == masked(u32::from(address).into(), 32, self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                masked(u128::from(network), 128, self.prefix)
                    == masked(u128::from(address), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Why the settings could not be read; `Display` is the one line printed at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

const MINIMUM_SECRET_KEY_BASE_LENGTH: usize = 64;
const MINIMUM_METRICS_TOKEN_LENGTH: usize = 32;

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply an environment of their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let environment = match (read("APP_ENV"), read("MIX_ENV")) {
            (Some(value), _) => parse_environment("APP_ENV", &value)?,
            (None, Some(value)) => parse_environment("MIX_ENV", &value)?,
            (None, None) => Environment::Development,
        };
        let production = environment == Environment::Production;

        let database_url = read("DATABASE_URL").ok_or_else(|| ConfigError {
            name: "DATABASE_URL",
            problem:
                "is required (for example postgres://postgres@127.0.0.1:5432/trading_strategy)"
                    .into(),
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError {
                name: "DATABASE_URL",
                problem: "must be a postgres:// or postgresql:// URL".into(),
            });
        }

        let pool_size = parse_number::<u32>(&read, "POOL_SIZE", 10, 1..=1000)?;
        let port = match read("PORT") {
            Some(value) => Some(parse_value::<u16>("PORT", &value, 1..=65535)?),
            None if production => Some(4000),
            None => None,
        };

        let secret_key_base = match read("SECRET_KEY_BASE") {
            Some(value) if value.chars().count() >= MINIMUM_SECRET_KEY_BASE_LENGTH => value,
            Some(_) => {
                return Err(too_short_secret(
                    "SECRET_KEY_BASE",
                    MINIMUM_SECRET_KEY_BASE_LENGTH,
                ))
            }
            None if production => {
                return Err(ConfigError {
                    name: "SECRET_KEY_BASE",
                    problem: format!(
                        "is required in production, at least {MINIMUM_SECRET_KEY_BASE_LENGTH} \
                         characters (generate one with: trading_strategy gen-secret)"
                    ),
                })
            }
            // Outside production a fresh random key per process: never a fixed secret that
            // could leak into a deployment.
            None => generate_secret_key_base(),
        };
        let signing_salt =
            read("LIVE_VIEW_SIGNING_SALT").unwrap_or_else(|| "trading_strategy".into());

        let public_url = match read("PHX_HOST").or_else(|| read("APP_HOST")) {
            Some(host) => parse_public_host(&host, production, port)?,
            None if production => {
                return Err(ConfigError {
                    name: "PHX_HOST",
                    problem: "is required in production: the public host name, used for links \
                              in mail and Origin checks"
                        .into(),
                })
            }
            None => String::new(),
        };

        let smtp = match read("SMTP_HOST") {
            Some(host) => Some(SmtpSettings {
                host,
                port: parse_number::<u16>(&read, "SMTP_PORT", 587, 1..=65535)?,
                username: read("SMTP_USERNAME"),
                password: read("SMTP_PASSWORD").map(Secret::new),
                starttls: match read("SMTP_STARTTLS") {
                    Some(value) if !parse_bool("SMTP_STARTTLS", &value)? => {
                        if production {
                            return Err(ConfigError {
                                name: "SMTP_STARTTLS",
                                problem: "cannot be turned off in production".into(),
                            });
                        }
                        false
                    }
                    _ => true,
                },
            }),
            None => None,
        };
        let mailer_from_email =
            read("MAILER_FROM_EMAIL").unwrap_or_else(|| "noreply@localhost".into());
        if !mailer_from_email.contains('@') {
            return Err(ConfigError {
                name: "MAILER_FROM_EMAIL",
                problem: format!("`{mailer_from_email}` is not an email address"),
            });
        }
        let mailer_from_name =
            read("MAILER_FROM_NAME").unwrap_or_else(|| "Trading Strategy Platform".into());

        let max_concurrent_backtests =
            parse_number::<u32>(&read, "MAX_CONCURRENT_BACKTESTS", 5, 1..=1000)?;
        let autosave_interval_ms = parse_number::<u64>(
            &read,
            "STRATEGY_AUTOSAVE_INTERVAL_MS",
            30_000,
            1_000..=3_600_000,
        )?;
        let log_format = match read("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    name: "LOG_FORMAT",
                    problem: format!("must be `text` or `json`, got `{other}`"),
                })
            }
        };
        let cookie_secure = match read("COOKIE_SECURE") {
            Some(value) => parse_bool("COOKIE_SECURE", &value)?,
            None => production,
        };
        if production && !cookie_secure {
            return Err(ConfigError {
                name: "COOKIE_SECURE",
                problem: "cannot be turned off in production".into(),
            });
        }
        let trusted_proxies = match read("TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| {
                    IpRange::parse(entry).ok_or_else(|| ConfigError {
                        name: "TRUSTED_PROXIES",
                        problem: format!(
                            "`{entry}` is not an address or a CIDR range (such as 127.0.0.1 or 10.0.0.0/8)"
                        ),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let dev_mailbox = match read("DEV_MAILBOX") {
            Some(value) => parse_bool("DEV_MAILBOX", &value)?,
            None => false,
        };
        if production && dev_mailbox {
            return Err(ConfigError {
                name: "DEV_MAILBOX",
                problem: "cannot be turned on in production".into(),
            });
        }

        let metrics_token = match read("METRICS_TOKEN") {
            Some(token) if token.chars().count() >= MINIMUM_METRICS_TOKEN_LENGTH => {
                Some(Secret::new(token))
            }
            Some(_) => {
                return Err(too_short_secret(
                    "METRICS_TOKEN",
                    MINIMUM_METRICS_TOKEN_LENGTH,
                ))
            }
            None => None,
        };
        let metrics_addr = match read("METRICS_ADDR") {
            Some(address) => Some(address.parse().map_err(|_| ConfigError {
                name: "METRICS_ADDR",
                problem: format!("`{address}` is not an address and port (such as 127.0.0.1:9100)"),
            })?),
            None => None,
        };

        let seconds = |name, default, range| {
            parse_number::<u64>(&read, name, default, range).map(Duration::from_secs)
        };
        let milliseconds = |name, default, range| {
            parse_number::<u64>(&read, name, default, range).map(Duration::from_millis)
        };
        let limits = Limits {
            request: seconds("REQUEST_TIMEOUT_SECS", 30, 1..=3600)?,
            header_read: seconds("HEADER_READ_TIMEOUT_SECS", 10, 1..=300)?,
            statement: milliseconds("DB_STATEMENT_TIMEOUT_MS", 15_000, 100..=3_600_000)?,
            pool_acquire: milliseconds("DB_ACQUIRE_TIMEOUT_MS", 5_000, 100..=60_000)?,
        };

        Ok(Settings {
            environment,
            database_url: Secret::new(database_url),
            pool_size,
            public_url,
            port,
            secret_key_base: Secret::new(secret_key_base),
            signing_salt: Secret::new(signing_salt),
            smtp,
            mailer_from_email,
            mailer_from_name,
            max_concurrent_backtests,
            autosave_interval_ms,
            log_format,
            log_file: read("LOG_FILE").map(std::path::PathBuf::from),
            cookie_secure,
            trusted_proxies,
            dev_mailbox,
            metrics_token,
            metrics_addr,
            limits,
            bounds: Bounds::read(&read)?,
        })
    }

    /// Fills in the public URL from the address we listen on when `PHX_HOST` did not give one.
    pub fn with_listen_address(mut self, address: std::net::SocketAddr) -> Self {
        if self.public_url.is_empty() {
            self.public_url = format!("http://{address}");
        }
        self
    }

    /// A 64-byte key for one `purpose`, derived from `SECRET_KEY_BASE` with
    /// `LIVE_VIEW_SIGNING_SALT` (as Phoenix derives its keys), so each use gets its own key
    /// and the secret itself is never used directly.
    pub fn derive_key(&self, purpose: &str) -> [u8; 64] {
        use sha2::{Digest, Sha512};
        Sha512::new()
            .chain_update(b"trading_strategy key\0")
            .chain_update(purpose.as_bytes())
            .chain_update(b"\0")
            .chain_update(self.signing_salt.expose().as_bytes())
            .chain_update(b"\0")
            .chain_update(self.secret_key_base.expose().as_bytes())
            .finalize()
            .into()
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }
}

fn too_short_secret(name: &'static str, minimum: usize) -> ConfigError {
    ConfigError {
        name,
        problem: format!(
            "must be at least {minimum} characters (generate one with: trading_strategy gen-secret)"
        ),
    }
}

fn parse_environment(name: &'static str, value: &str) -> Result<Environment, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "dev" | "development" => Ok(Environment::Development),
        "test" => Ok(Environment::Test),
        "prod" | "production" | "staging" => Ok(Environment::Production),
        other => Err(ConfigError {
            name,
            problem: format!("must be development, test or production, got `{other}`"),
        }),
    }
}

fn parse_value<T>(
    name: &'static str,
    value: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let problem = || {
        format!(
            "must be a whole number from {} to {}, got `{value}`",
            range.start(),
            range.end()
        )
    };
    let parsed: T = value.parse().map_err(|_| ConfigError {
        name,
        problem: problem(),
    })?;
    if range.contains(&parsed) {
        Ok(parsed)
    } else {
        Err(ConfigError {
            name,
            problem: problem(),
        })
    }
}

fn parse_number<T>(
    read: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    match read(name) {
        Some(value) => parse_value(name, &value, range),
        None => Ok(default),
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError {
            name,
            problem: format!("must be true or false, got `{other}`"),
        }),
    }
}

/// `PHX_HOST` is a bare host in the runbook (`your-domain.com`); a scheme and port are
/// accepted too. Production defaults to https, other environments to http.
fn parse_public_host(
    value: &str,
    production: bool,
    port: Option<u16>,
) -> Result<String, ConfigError> {
    let (scheme, rest) = match value.split_once("://") {
        Some((scheme @ ("http" | "https"), rest)) => (scheme.to_string(), rest),
        Some((other, _)) => {
            return Err(ConfigError {
                name: "PHX_HOST",
                problem: format!("scheme must be http or https, got `{other}`"),
            })
        }
        None if production => ("https".to_string(), value),
        None => ("http".to_string(), value),
    };
    let authority = rest.trim_end_matches('/');
    let valid = !authority.is_empty()
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid {
        return Err(ConfigError {
            name: "PHX_HOST",
            problem: format!("`{value}` is not a host name"),
        });
    }
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
    Ok(match port {
        // Outside production the app is reached directly on its port, not behind a proxy.
        Some(port) if !production && !has_port => format!("{scheme}://{authority}:{port}"),
        _ => format!("{scheme}://{authority}"),
    })
}

/// A new random secret for `SECRET_KEY_BASE`: 64 bytes from the OS generator, URL-safe
/// base64 (86 characters). `trading_strategy gen-secret` prints one.
pub fn generate_secret_key_base() -> String {
    crate::secrets::random_url_safe::<64>()
}

#[cfg(test)]
mod tests;
