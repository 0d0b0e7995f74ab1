//! `spawn_app()`: a fresh database (dropped afterwards) and the real router on a random port,
//! plus typed helpers, so each test reads as what a user does.

use std::{net::SocketAddr, sync::Arc};

use sqlx::{postgres::PgPoolOptions, PgPool};
use trading_strategy::server::{config::Settings, database, http, AppState};

/// The Postgres server the tests may create databases on: `DATABASE_URL` with its database
/// name ignored, or the local server.
pub fn server_url() -> String {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    match url.rsplit_once('/') {
        Some((server, _database)) if server.contains("://") && server.matches('/').count() >= 2 => {
            server.to_string()
        }
        _ => url,
    }
}

/// A database made for one test and dropped when the test ends, whatever its outcome.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// An empty database, with no migrations applied.
    pub async fn empty() -> Self {
        let name = format!("ts_test_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{}/postgres", server_url()))
            .await
            .expect("the test Postgres server answers");
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&admin)
            .await
            .expect("a test database can be created");
        admin.close().await;
        let url = format!("{}/{name}", server_url());
        TestDatabase { name, url }
    }

    /// A database with every migration applied.
    pub async fn migrated() -> (Self, PgPool) {
        let database = Self::empty().await;
        let pool = database::connect_url(&database.url, 5).await.unwrap();
        database::migrate(&pool).await.unwrap();
        (database, pool)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = format!("{}/postgres", server_url());
        // Drop runs inside the test's runtime, which cannot block on async work: use a thread
        // with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(admin) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_url)
                    .await
                {
                    let _ =
                        sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                            .execute(&admin)
                            .await;
                }
            })
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

pub struct TestApp {
    pub address: SocketAddr,
    pub pool: PgPool,
    pub client: reqwest::Client,
    // Declared last so that it is dropped after the pool's users.
    pub database: TestDatabase,
}

pub fn test_settings(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let mut env: Vec<(String, String)> = vec![
        ("APP_ENV".into(), "test".into()),
        ("DATABASE_URL".into(), database_url.into()),
        ("POOL_SIZE".into(), "5".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test settings are valid")
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    // The tests run from the crate root, where Leptos.toml is.
    http::load_leptos_options(None).expect("Leptos.toml is readable")
}

/// Serves `state` on a random local port and returns the address.
pub async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    address
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(extra_settings: &[(&str, &str)]) -> TestApp {
    let (database, pool) = TestDatabase::migrated().await;
    let listener_address: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let settings =
        test_settings(&database.url, extra_settings).with_listen_address(listener_address);
    let state = AppState {
        leptos_options: leptos_options(),
        pool: pool.clone(),
        settings: Arc::new(settings),
    };
    let address = serve(state).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        pool,
        client,
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the app answers")
    }
}
