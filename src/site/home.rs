//! The home page: what the platform does, with an example strategy to look at.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::web::islands::{enter_island, page_title};

const EXAMPLE_STRATEGY: &str = r#"name: RSI mean reversion
trading_pair: BTC/USD
timeframe: 1h
indicators:
  - type: rsi
    name: rsi_14
    parameters:
      period: 14
  - type: sma
    name: sma_50
    parameters:
      period: 50
entry_conditions: rsi_14 < 30 AND close > sma_50
exit_conditions: rsi_14 > 70 OR unrealized_pnl_pct < -0.05
position_sizing:
  type: percentage
  percentage_of_capital: 0.1
risk_parameters:
  max_daily_loss: 0.03
  max_drawdown: 0.15
"#;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=page_title("") />
        <section class="hero">
            <h1>"Write trading strategies you can trust"</h1>
            <p class="lead">
                "Describe a strategy in a small YAML or TOML language. Every keystroke is checked, "
                "every draft is kept, every save is a version, and nothing goes live before it has been backtested."
            </p>
        </section>
        <section class="features">
            <article>
                <h2>"Feedback as you type"</h2>
                <p>"Each problem is underlined where it is, with the fix in plain words."</p>
            </article>
            <article>
                <h2>"Never lose a draft"</h2>
                <p>"Your working copy is saved while you pause, and restored after a crash or a closed tab."</p>
            </article>
            <article>
                <h2>"See every change"</h2>
                <p>"Another tab or machine saved first? You are told at once, and can merge without losing text."</p>
            </article>
        </section>
        <ExampleStrategy />
    }
}

/// The example strategy behind a toggle: the page's one island.
#[island(lazy)]
fn ExampleStrategy() -> impl IntoView {
    enter_island();
    let (example_open, set_example_open) = signal(false);
    view! {
        <section class="example">
            <button
                type="button"
                class="button secondary"
                data-testid="example-toggle"
                aria-expanded=move || example_open.get().to_string()
                aria-controls="example-strategy"
                on:click=move |_| set_example_open.update(|open| *open = !*open)
            >
                {move || if example_open.get() { "Hide the example" } else { "Show an example strategy" }}
            </button>
            <Show when=move || example_open.get()>
                <pre id="example-strategy" class="code" data-testid="example-strategy">
                    {EXAMPLE_STRATEGY}
                </pre>
            </Show>
        </section>
    }
}
