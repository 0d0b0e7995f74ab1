//! `/strategies` until the strategies feature lands: the page a user arrives at after logging
//! in (it needs a user, like the real list will).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StrategiesPlaceholderPage() -> impl IntoView {
    view! {
        <Title text="Your strategies" />
        <section>
            <h1>"Your strategies"</h1>
            <p>"The list of your strategies is coming soon."</p>
        </section>
    }
}
