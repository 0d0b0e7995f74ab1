//! The browser's end of `/strategies/live`: opened after hydration, it hands each change of
//! the user's strategies to the page, and reconnects by itself with back-off after a drop
//! (the page then asks for the current state, so nothing missed stays missed).

use crate::strategies::StrategyChange;

/// Listens while the calling component lives: `on_change` gets every change, and
/// `on_reconnect` runs after a dropped connection is back.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn listen_for_changes(
    on_change: impl Fn(StrategyChange) + 'static,
    on_reconnect: impl Fn() + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::listen(std::rc::Rc::new(on_change), std::rc::Rc::new(on_reconnect));
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{
        cell::Cell,
        rc::Rc,
        sync::{
            atomic::{AtomicBool, Ordering},
            Arc,
        },
        time::Duration,
    };

    use leptos::{prelude::*, wasm_bindgen::prelude::*};
    use web_sys::{MessageEvent, WebSocket};

    use crate::strategies::{StrategyChange, LIVE_PATH};

    type OnChange = Rc<dyn Fn(StrategyChange)>;
    type OnReconnect = Rc<dyn Fn()>;

    /// Whether the page still wants the socket (false once the component is gone).
    type Wanted = Arc<AtomicBool>;

    pub fn listen(on_change: OnChange, on_reconnect: OnReconnect) {
        let wanted: Wanted = Arc::new(AtomicBool::new(true));
        connect(on_change, on_reconnect, wanted.clone(), 0);
        on_cleanup(move || wanted.store(false, Ordering::Relaxed));
    }

    fn url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}{LIVE_PATH}", location.host().ok()?))
    }

    fn connect(on_change: OnChange, on_reconnect: OnReconnect, wanted: Wanted, attempt: u32) {
        if !wanted.load(Ordering::Relaxed) {
            return;
        }
        let Some(socket) = url().and_then(|url| WebSocket::new(&url).ok()) else {
            return;
        };
        let opened = Rc::new(Cell::new(false));
        {
            let opened = opened.clone();
            let on_reconnect = on_reconnect.clone();
            let on_open = Closure::<dyn FnMut()>::new(move || {
                opened.set(true);
                if attempt > 0 {
                    on_reconnect();
                }
            });
            socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            on_open.forget();
        }
        {
            let on_change = on_change.clone();
            let (wanted, socket_for_message) = (wanted.clone(), socket.clone());
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if !wanted.load(Ordering::Relaxed) {
                    socket_for_message.set_onclose(None);
                    let _ = socket_for_message.close();
                    return;
                }
                if let Some(text) = event.data().as_string() {
                    if let Ok(change) = serde_json::from_str::<StrategyChange>(&text) {
                        on_change(change);
                    }
                }
            });
            socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
        {
            let socket_for_close = socket.clone();
            let on_close = Closure::<dyn FnMut()>::new(move || {
                socket_for_close.set_onclose(None);
                // Back-off: 1 s, 2 s, 4 s ... at most 30 s; a connection that had opened
                // starts again from 1 s.
                let next = if opened.get() { 1 } else { attempt + 1 };
                let delay = Duration::from_millis((1000u64 << next.min(5)).min(30_000) / 2);
                let (on_change, on_reconnect, wanted) =
                    (on_change.clone(), on_reconnect.clone(), wanted.clone());
                set_timeout(
                    move || connect(on_change, on_reconnect, wanted, next),
                    delay,
                );
            });
            socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            on_close.forget();
        }
    }
}
