//! What every island (the parts of a page that run in the browser) does first: give itself
//! what the app's root gives the server-rendered page (the page title's context), and report
//! that it is hydrated, so that the page can say when all of them are (`data-hydrated` on
//! `<body>`: browser tests wait for it instead of guessing, and styles may use it).

use leptos::prelude::*;

/// The page's title, as the server and every island write it.
pub fn page_title(page: &str) -> String {
    if page.is_empty() {
        "Trading Strategy Platform".to_string()
    } else {
        format!("{page} · Trading Strategy Platform")
    }
}

/// The route's `:`-parameter `name` as a `T`, read by a page's wrapper where the page is
/// rendered (the server) and handed to its islands as a prop; `None` when it is missing or
/// does not parse.
pub fn route_param<T: std::str::FromStr>(name: &str) -> Option<T> {
    leptos_router::hooks::use_params_map()
        .read_untracked()
        .get(name)
        .and_then(|value| value.parse().ok())
}

/// Called first in every `#[island]`.
pub fn enter_island() {
    #[cfg(feature = "hydrate")]
    {
        // An island is hydrated apart from the app's root, so it has none of its context.
        if use_context::<leptos_meta::MetaContext>().is_none() {
            leptos_meta::provide_meta_context();
        }
        // Runs once the island's view is hydrated.
        Effect::new(move |_| readiness::island_hydrated());
    }
}

/// For an island that is ready only after some work of its own (the editor: once CodeMirror
/// has arrived): the page is not marked hydrated until the returned function is called.
#[cfg(feature = "hydrate")]
pub fn hydrated_later() -> impl FnOnce() {
    readiness::expect_one_more();
    readiness::island_hydrated
}

/// Called by `hydrate()`, before the islands: counts them, and marks a page without any at once.
#[cfg(feature = "hydrate")]
pub fn expect_the_page_s_islands() {
    let islands = document()
        .query_selector_all("leptos-island")
        .map_or(0, |found| found.length());
    readiness::expect(islands);
}

/// The count of islands still to hydrate is kept on `<body>` itself (`data-islands-left`):
/// the page is its one owner, and no state outlives it.
#[cfg(feature = "hydrate")]
mod readiness {
    use leptos::prelude::document;

    const LEFT: &str = "data-islands-left";

    pub fn expect(islands: u32) {
        let Some(body) = document().body() else {
            return;
        };
        let _ = body.set_attribute(LEFT, &islands.to_string());
        if islands == 0 {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }

    pub fn expect_one_more() {
        let Some(body) = document().body() else {
            return;
        };
        let left = left(&body).map_or(1, |left| left + 1);
        let _ = body.set_attribute(LEFT, &left.to_string());
    }

    fn left(body: &web_sys::HtmlElement) -> Option<u32> {
        body.get_attribute(LEFT)
            .and_then(|left| left.parse::<u32>().ok())
    }

    pub fn island_hydrated() {
        let Some(body) = document().body() else {
            return;
        };
        let left = left(&body).unwrap_or(1).saturating_sub(1);
        let _ = body.set_attribute(LEFT, &left.to_string());
        if left == 0 {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}
