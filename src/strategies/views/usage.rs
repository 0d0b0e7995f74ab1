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

/// 5000000 as "5,000,000".
fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0 {
        grouped.insert(0, '-');
    }
    grouped
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[component]
fn UsageRow(label: &'static str, measure: Measure, shown: fn(i64) -> String) -> impl IntoView {
    let text = format!("{} of {}", shown(measure.used), shown(measure.quota));
    view! {
        <div class="usage-row">
            <dt>{label}</dt>
            <dd>
                <span class="usage-figures">{text.clone()}</span>
                <meter min="0" max=measure.quota.to_string() value=measure.used.to_string()
                    high=(measure.quota * 9 / 10).to_string() aria-label=format!("{label}: {text}")>{text.clone()}</meter>
            </dd>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(5_000_000), "5,000,000");
        assert_eq!(count(500), "500");
        assert_eq!(count(1_000), "1,000");
    }
}
