//! The settings page's "Storage" section: each quota with what the account uses of it.

use leptos::prelude::*;

use crate::strategies::{storage_usage, usage::Measure};

#[component]
pub fn StorageUsagePanel() -> impl IntoView {
    let usage = Resource::new(|| (), |_| storage_usage());
    view! {
        <section class="account-form storage-usage" aria-labelledby="storage-heading">
            <h2 id="storage-heading">"Storage"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Counting…"</p> }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(usage) => view! {
                            <dl class="usage">
                                <UsageRow label="Strategies" measure=usage.strategies shown=count />
                                <UsageRow label="Versions and working copies" measure=usage.stored_bytes shown=megabytes />
                                <UsageRow label="Uploaded candles" measure=usage.candle_rows shown=count />
                                <UsageRow label="Import reports kept" measure=usage.import_reports shown=count />
                            </dl>
                            <p class="hint">"Older import reports are deleted to keep the newest. When another figure is full, delete what you no longer need to make room."</p>
                        }.into_any(),
                        Err(error) => view! { <p class="notice bad" role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn count(value: i64) -> String {
    value.to_string()
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[component]
fn UsageRow(label: &'static str, measure: Measure, shown: fn(i64) -> String) -> impl IntoView {
    let text = format!("{} of {}", shown(measure.used), shown(measure.quota));
    view! {
        <dt>{label}</dt>
        <dd>
            <meter min="0" max=measure.quota.to_string() value=measure.used.to_string() aria-label=label>{text.clone()}</meter>
            " "{text}
        </dd>
    }
}
