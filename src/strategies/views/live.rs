//! The browser's end of `/strategies/live`: opened after hydration, it hands each change of
//! the user's strategies to the page, and reconnects by itself with back-off after a drop
//! (the page then asks for the current state, so nothing missed stays missed).

use crate::strategies::StrategyId;
use leptos::prelude::Signal;

use crate::strategies::{backtests::RunChange, StrategyChange};

/// Listens while the calling component lives: `on_change` gets every change, and
/// `on_reconnect` runs after a dropped connection is back.
pub fn listen_for_changes(
    on_change: impl Fn(StrategyChange) + 'static,
    on_reconnect: impl Fn() + 'static,
) {
    listen_for_changes_and_backtests(on_change, |_| {}, on_reconnect);
}

/// The same, with `on_backtest` getting every status change of the user's backtests.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn listen_for_changes_and_backtests(
    on_change: impl Fn(StrategyChange) + 'static,
    on_backtest: impl Fn(RunChange) + 'static,
    on_reconnect: impl Fn() + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::listen(browser::Handlers {
        on_change: std::rc::Rc::new(on_change),
        on_backtest: std::rc::Rc::new(on_backtest),
        on_reconnect: std::rc::Rc::new(on_reconnect),
        on_presence: std::rc::Rc::new(|_| {}),
        watching: Signal::stored(None),
    });
}

/// The same, for an editor: the channel is told which strategy `watching` names, and
/// `on_presence` gets how many editors have it open (this one included).
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn listen_with_presence(
    on_change: impl Fn(StrategyChange) + 'static,
    on_reconnect: impl Fn() + 'static,
    watching: Signal<Option<StrategyId>>,
    on_presence: impl Fn(i64) + 'static,
) {
    #[cfg(feature = "hydrate")]
    browser::listen(browser::Handlers {
        on_change: std::rc::Rc::new(on_change),
        on_backtest: std::rc::Rc::new(|_| {}),
        on_reconnect: std::rc::Rc::new(on_reconnect),
        on_presence: std::rc::Rc::new(on_presence),
        watching,
    });
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

    use crate::strategies::{
        backtests::RunChange, LiveMessage, StrategyChange, StrategyId, WatchRequest, LIVE_PATH,
    };

    #[derive(Clone)]
    pub struct Handlers {
        pub on_change: Rc<dyn Fn(StrategyChange)>,
        pub on_backtest: Rc<dyn Fn(RunChange)>,
        pub on_reconnect: Rc<dyn Fn()>,
        pub on_presence: Rc<dyn Fn(i64)>,
        pub watching: Signal<Option<StrategyId>>,
    }

    /// The socket open now, if any (replaced on every reconnect).
    type Current = Rc<std::cell::RefCell<Option<WebSocket>>>;

    fn tell_watch(socket: &WebSocket, watch: Option<StrategyId>) {
        if socket.ready_state() == WebSocket::OPEN {
            let text = serde_json::to_string(&WatchRequest { watch }).unwrap_or_default();
            let _ = socket.send_with_str(&text);
        }
    }

    /// Whether the page still wants the socket (false once the component is gone).
    type Wanted = Arc<AtomicBool>;

    pub fn listen(handlers: Handlers) {
        let wanted: Wanted = Arc::new(AtomicBool::new(true));
        let current: Current = Rc::default();
        // The editor's strategy changes (a new strategy's first save): tell the channel.
        {
            let (current, watching) = (current.clone(), handlers.watching);
            Effect::new(move |_| {
                let watch = watching.get();
                if let Some(socket) = current.borrow().as_ref() {
                    tell_watch(socket, watch);
                }
            });
        }
        connect(handlers, current, wanted.clone(), 0);
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

    fn connect(handlers: Handlers, current: Current, wanted: Wanted, attempt: u32) {
        if !wanted.load(Ordering::Relaxed) {
            return;
        }
        let Some(socket) = url().and_then(|url| WebSocket::new(&url).ok()) else {
            return;
        };
        *current.borrow_mut() = Some(socket.clone());
        let opened = Rc::new(Cell::new(false));
        {
            let opened = opened.clone();
            let handlers = handlers.clone();
            let socket_for_open = socket.clone();
            let on_open = Closure::<dyn FnMut()>::new(move || {
                opened.set(true);
                tell_watch(&socket_for_open, handlers.watching.get_untracked());
                if attempt > 0 {
                    (handlers.on_reconnect)();
                }
            });
            socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            on_open.forget();
        }
        {
            let handlers = handlers.clone();
            let (wanted, socket_for_message) = (wanted.clone(), socket.clone());
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if !wanted.load(Ordering::Relaxed) {
                    socket_for_message.set_onclose(None);
                    let _ = socket_for_message.close();
                    return;
                }
                let message = event
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<LiveMessage>(&text).ok());
                match message {
                    Some(LiveMessage::Changed(change)) => (handlers.on_change)(change),
                    Some(LiveMessage::Backtest(change)) => (handlers.on_backtest)(change),
                    Some(LiveMessage::Presence { strategy_id, open })
                        if handlers.watching.get_untracked() == Some(strategy_id) =>
                    {
                        (handlers.on_presence)(open)
                    }
                    _ => {}
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
                let (handlers, current, wanted) =
                    (handlers.clone(), current.clone(), wanted.clone());
                set_timeout(
                    move || {
                        // A session that ended (a password change or "log out everywhere"
                        // closes the socket) would answer the upgrade with a redirect to log
                        // in, which the browser reports as a failed connection: ask first.
                        leptos::task::spawn_local(async move {
                            if let Ok(Some(_)) = crate::accounts::current_account().await {
                                connect(handlers, current, wanted, next);
                            }
                        });
                    },
                    delay,
                );
            });
            socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            on_close.forget();
        }
    }
}
