//! The page for an address that leads nowhere (answered with status 404).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::web::islands::page_title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=page_title("Page not found") />
        <section class="panel narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <A href="/">"Go to the home page"</A>
            </p>
        </section>
    }
}
