//! The real `trading_strategy` binary: start-up errors, structured logs, graceful shutdown.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::harness::TestDatabase;

fn binary() -> Command {
    clean_command(env!("CARGO_BIN_EXE_trading_strategy"))
}

/// `program` with none of the app's settings from the environment of the tests.
pub(crate) fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    // Start from a clean slate: only what each test sets.
    for name in [
        "DATABASE_URL",
        "APP_ENV",
        "MIX_ENV",
        "SECRET_KEY_BASE",
        "PHX_HOST",
        "APP_HOST",
        "PORT",
        "LOG_FORMAT",
    ] {
        command.env_remove(name);
    }
    command
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The command of `serve` against `database` on `port`, logging JSON to stdout.
pub fn serve_command(database: &TestDatabase, port: u16) -> Command {
    let mut command = binary();
    command
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("APP_ENV", "test")
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Starts `command` and waits until `/health` answers on `port`.
pub async fn start(mut command: Command, port: u16) -> Child {
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("http://127.0.0.1:{port}/health"))
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    panic!(
        "the server did not answer on port {port}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn start_server(database: &TestDatabase, port: u16) -> Child {
    start(serve_command(database, port), port).await
}

pub(crate) fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `trading_strategy serve` with `env` and returns what it printed on stderr, after
/// checking that it refused to start.
fn refused_start(env: &[(&str, &str)]) -> String {
    let mut command = binary();
    command.arg("serve");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "it started: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

const ANY_DATABASE: (&str, &str) = (
    "DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/postgres",
);

#[test]
fn a_missing_required_setting_stops_start_up_with_one_line_naming_it() {
    let stderr = refused_start(&[]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_a_secret_key_base() {
    let stderr = refused_start(&[
        ("APP_ENV", "production"),
        ("PHX_HOST", "example.com"),
        ANY_DATABASE,
    ]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("SECRET_KEY_BASE"), "{stderr}");
}

#[test]
fn a_malformed_setting_is_named() {
    let stderr = refused_start(&[ANY_DATABASE, ("MAX_CONCURRENT_BACKTESTS", "many")]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("configuration error: MAX_CONCURRENT_BACKTESTS"),
        "{stderr}"
    );
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_sigterm_stops_the_server_cleanly() {
    let (database, _pool) = TestDatabase::migrated().await;
    let port = free_port();
    // The test's requests come from loopback, here the one trusted proxy.
    let mut command = serve_command(&database, port);
    command.env("TRUSTED_PROXIES", "127.0.0.1");
    let mut child = start(command, port).await;
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health"))
        .header("x-request-id", "log-probe-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    terminate(&child);
    let status = wait_with_timeout(&mut child, Duration::from_secs(15));
    assert!(status.success(), "exit status after SIGTERM: {status:?}");

    let lines: Vec<serde_json::Value> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .map(|line| serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let finished = lines
        .iter()
        .find(|line| line["span"]["request_id"] == "log-probe-42")
        .expect("a log line of the request carries its id");
    assert_eq!(finished["fields"]["status"], 200);
    assert_eq!(finished["span"]["route"], "/health");
    assert!(lines
        .iter()
        .any(|line| line["fields"]["message"] == "stopped"));
}

#[tokio::test]
async fn a_request_in_flight_when_sigterm_arrives_still_gets_its_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (database, _pool) = TestDatabase::migrated().await;
    let port = free_port();
    let mut child = start_server(&database, port).await;

    // A log-in form whose body arrives in two halves: the server is reading it when SIGTERM
    // comes, so the request is in flight.
    let body = "user%5Bemail%5D=nobody%40example.com&user%5Bpassword%5D=not-the-password-1";
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /users/log-in HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{first_half}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    terminate(&child);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server quit with a request in flight"
    );

    stream.write_all(second_half.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("the answer arrives")
        .unwrap();
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("HTTP/1.1 "), "answer: {answer}");
    assert!(!status_line.contains(" 5"), "answer: {status_line}");

    let status = wait_with_timeout(&mut child, Duration::from_secs(15));
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[test]
fn check_prints_diagnostics_like_a_compiler_and_fails_on_errors() {
    let invalid = "tests/language/corpus/invalid/E002_document_is_a_list.yaml";
    let output = binary().args(["check", invalid]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("{invalid}:1:1: error[E002]: ")),
        "{stdout}"
    );
    assert!(stdout.contains("^^^"), "the span is underlined: {stdout}");

    let valid = "tests/language/corpus/valid/feature_arithmetic_and_functions.yaml";
    let output = binary().args(["check", valid]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn check_json_and_explain_print_what_they_promise() {
    let invalid = "tests/language/corpus/invalid/E002_document_is_a_list.yaml";
    let output = binary()
        .args(["check", "--json", invalid])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report[0]["diagnostics"][0]["code"], "E002");
    assert_eq!(report[0]["diagnostics"][0]["span"]["line"], 1);

    let valid = "tests/language/corpus/valid/feature_arithmetic_and_functions.yaml";
    let output = binary()
        .args(["check", "--explain", valid])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Warm-up: 19 bars"), "{stdout}");
    assert!(
        stdout.contains("entry_conditions: abs(close - sma_20)"),
        "{stdout}"
    );
}

#[test]
fn check_needs_no_configuration_and_reports_unreadable_files() {
    let output = binary()
        .args(["check", "does/not/exist.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("cannot read the file"), "{stdout}");
}

#[test]
fn gen_secret_prints_a_secret_that_production_accepts() {
    let output = binary().arg("gen-secret").output().unwrap();
    assert!(output.status.success());
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(secret.len() >= 64, "{secret}");
    let again = binary().arg("gen-secret").output().unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap().trim(), secret);

    // Production with that secret gets past configuration, to the database check.
    let stderr = refused_start(&[
        ("APP_ENV", "production"),
        ("PHX_HOST", "example.com"),
        ("SECRET_KEY_BASE", &secret),
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/unreachable",
        ),
    ]);
    assert!(!stderr.contains("SECRET_KEY_BASE"), "{stderr}");
    assert!(stderr.contains("database"), "{stderr}");
}

#[tokio::test]
async fn a_release_layout_runs_from_any_folder_and_appends_its_logs_to_log_file() {
    // A release ships the binary with Leptos.toml beside it; it must find that file when
    // started from elsewhere (systemd's working directory, a shell in /).
    let release = std::env::temp_dir().join(format!("ts-release-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&release).unwrap();
    let installed = release.join("trading_strategy");
    std::fs::copy(env!("CARGO_BIN_EXE_trading_strategy"), &installed).unwrap();
    std::fs::copy("Leptos.toml", release.join("Leptos.toml")).unwrap();
    let log_file = release.join("prod.log");

    let (database, _pool) = TestDatabase::migrated().await;
    let port = free_port();
    let mut command = Command::new(&installed);
    command
        .arg("serve")
        .current_dir("/")
        .env_remove("LEPTOS_SITE_ROOT")
        .env_remove("LEPTOS_SITE_ADDR")
        .env("DATABASE_URL", &database.url)
        .env("APP_ENV", "test")
        .env("PORT", port.to_string())
        .env("LOG_FILE", &log_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = start(command, port).await;
    let home = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    terminate(&child);
    assert!(wait_with_timeout(&mut child, Duration::from_secs(15)).success());

    let logs = std::fs::read_to_string(&log_file).unwrap();
    assert!(logs.contains("listening"), "{logs}");
    assert!(logs.contains("request finished"), "{logs}");
    assert!(!logs.contains("\u{1b}["), "no colour codes in the file");
    std::fs::remove_dir_all(&release).unwrap();
}

#[test]
fn an_unwritable_log_file_is_named_at_start_up() {
    let stderr = refused_start(&[ANY_DATABASE, ("LOG_FILE", "/proc/no/such/file.log")]);
    assert!(stderr.contains("LOG_FILE"), "{stderr}");
}
