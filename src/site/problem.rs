//! What a page shows when rendering it failed: the errors in plain words, never a blank page.

use leptos::prelude::*;

#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| error.to_string())
            .collect::<Vec<_>>()
    };
    view! {
        <section class="panel narrow error-panel" role="alert">
            <h1>"Something went wrong"</h1>
            <ul>
                {move || {
                    messages()
                        .into_iter()
                        .map(|message| view! { <li>{message}</li> })
                        .collect_view()
                }}
            </ul>
            <p>"Reload the page to try again. If it keeps happening, tell us the request id above."</p>
        </section>
    }
}
