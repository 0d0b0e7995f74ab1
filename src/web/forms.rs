//! The pieces every form of the app is built from: a labelled field that shows its own error,
//! an alert for errors that are not about one field, and `form_action!`, which wires a server
//! function to a form whose success loads the page it names. Each form is an `ActionForm`: a
//! plain form post without JavaScript, a server action with inline errors with it.

use leptos::prelude::*;

use super::Navigation;
use crate::error::AppError;

/// What a form's last submission gave: nothing yet, where to go, or why not.
pub type Outcome = Option<Result<Navigation, AppError>>;

/// Loads the page a successful form names, as a whole page, so that the header and the page
/// access checks see the new session.
pub fn follow_navigation(outcome: Signal<Outcome>) {
    Effect::new(move |_| {
        if let Some(Ok(navigation)) = outcome.get() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href(&navigation.to);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = navigation;
        }
    });
}

pub fn error_of(outcome: Signal<Outcome>) -> Signal<Option<AppError>> {
    Signal::derive(move || outcome.get().and_then(Result::err))
}

/// A form's server action and its error, as `form_action!` makes them. Make them in a part of
/// the page that a refetch does not redraw (the page component, outside its `Suspense`) and pass
/// them down: an action is dropped with the part that made it, so one made inside a part that a
/// live notice redraws loses its reply, and the page the reply names never loads, whenever the
/// notice (often of the request's own commit) arrives first.
pub type FormAction<S> = (ServerAction<S>, Signal<Option<AppError>>);

/// The outcome and error of a form's action, with navigation on success wired up.
macro_rules! form_action {
    ($server_fn:ty) => {{
        let action = ::leptos::prelude::ServerAction::<$server_fn>::new();
        let outcome =
            ::leptos::prelude::Signal::derive(move || ::leptos::prelude::Get::get(&action.value()));
        $crate::web::forms::follow_navigation(outcome);
        (action, $crate::web::forms::error_of(outcome))
    }};
}
pub(crate) use form_action;

/// One input with its label and, when the last attempt failed because of it, its error.
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    name: &'static str,
    /// The field name the server's error uses (`email`, `password`, ...).
    field: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field_message(field));
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=true
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=described_by
            />
            {move || {
                let error_id = error_id.clone();
                message().map(|text| view! { <p class="field-error" id=error_id data-field=field>{text}</p> })
            }}
        </div>
    }
}

/// A failure that is not about one field (wrong credentials, too many attempts, ...).
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    let text = move || {
        error.get().and_then(|error| match &error {
            AppError::Validation { fields, .. } if !fields.is_empty() => None,
            other => Some(other.to_string()),
        })
    };
    move || text().map(|text| view! { <p class="form-alert" role="alert">{text}</p> })
}
