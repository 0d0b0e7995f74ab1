//! Structured logs through `tracing`: human-readable text by default, JSON with
//! `LOG_FORMAT=json`, on standard output and, with `LOG_FILE`, appended to a file too;
//! `RUST_LOG` chooses what is logged.

use std::{fs::OpenOptions, io::IsTerminal, path::Path, sync::Mutex};

use anyhow::Context;
use tracing_subscriber::{
    field::RecordFields,
    fmt::{
        self,
        format::{DefaultFields, Writer},
        FormatFields,
    },
    prelude::*,
    EnvFilter, Layer, Registry,
};

use crate::config::{LogFormat, Settings};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(writer)
            .boxed(),
        LogFormat::Text if ansi => fmt::layer().with_target(false).with_writer(writer).boxed(),
        LogFormat::Text => fmt::layer()
            .with_target(false)
            .with_ansi(false)
            .fmt_fields(PlainFields::default())
            .with_writer(writer)
            .boxed(),
    }
}

/// The default field format under a type of its own: tracing caches a span's formatted
/// fields per formatter type, so without it a plain layer would reuse the coloured text of
/// the terminal's layer.
#[derive(Default)]
struct PlainFields(DefaultFields);

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> std::fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

fn open_log_file(path: &Path) -> anyhow::Result<std::fs::File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| {
            format!(
                "configuration error: LOG_FILE: cannot append to {}",
                path.display()
            )
        })
}

pub fn init(settings: &Settings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let colours = std::io::stdout().is_terminal();
    let mut layers = vec![layer(settings.log_format, std::io::stdout, colours)];
    if let Some(path) = &settings.log_file {
        let file = open_log_file(path)?;
        layers.push(layer(settings.log_format, Mutex::new(file), false));
    }
    // `try_init` so that tests which start several apps in one process do not panic.
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(())
}
