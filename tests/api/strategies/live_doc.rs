//! The live document on the real router: editors join a saved strategy's shared text, their
//! pushes are committed or told why not, every editor hears every update in one order, a save
//! takes the text at an exact live version, and writers outside it reach the editors at once.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{document, Trader};
use crate::harness::{spawn_app, unique_email, LiveSocket, TestApp};

/// An editor's socket into strategy `id`'s live document, on a new session of `email`.
async fn editor(app: &TestApp, email: &str, id: &str) -> LiveSocket {
    let (cookie, _) = app.session(email).await;
    app.socket_at(&format!("/strategies/live/{id}"), &cookie)
        .await
        .expect("the socket opens")
}

/// An editor `client` of strategy `id` that asked for the whole document, and the `doc` frame
/// it got.
async fn editor_with_doc(
    app: &TestApp,
    email: &str,
    id: &str,
    client: &str,
) -> (LiveSocket, Value) {
    let mut socket = editor(app, email, id).await;
    send(&mut socket, json!({"t": "hello", "client": client})).await;
    let doc = next(&mut socket, "doc").await;
    (socket, doc)
}

/// Editors "a" and "b" of strategy `id`, both joined at version 0 and told of each other.
async fn two_editors(app: &TestApp, email: &str, id: &str) -> (LiveSocket, LiveSocket) {
    let mut a = editor(app, email, id).await;
    send(&mut a, json!({"t": "hello", "client": "a", "v": 0})).await;
    next(&mut a, "peers").await;
    let mut b = editor(app, email, id).await;
    send(&mut b, json!({"t": "hello", "client": "b", "v": 0})).await;
    next(&mut b, "peers").await;
    // A hears of b (its hello asks the others to say where they are).
    next(&mut a, "peers").await;
    (a, b)
}

async fn send(socket: &mut LiveSocket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next frame of kind `t`, skipping others (peers, cursors, modes); panics after 5 s.
async fn next(socket: &mut LiveSocket, t: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no `{t}` frame within 5 s"))
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["t"] == t {
                return frame;
            }
        }
    }
}

/// The first frame of each kind in `kinds`, in whatever order they come (frames of different
/// notices, a save's `updates` and `saved` say, may cross).
async fn next_each(socket: &mut LiveSocket, kinds: &[&str]) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut found: Vec<Option<Value>> = vec![None; kinds.len()];
    while found.iter().any(Option::is_none) {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("not every one of {kinds:?} within 5 s: {found:?}"))
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if let Some(at) = kinds.iter().position(|kind| frame["t"] == *kind) {
                found[at].get_or_insert(frame);
            }
        }
    }
    found.into_iter().map(Option::unwrap).collect()
}

/// Nothing of kind `t` arrives within half a second.
async fn nothing_of(socket: &mut LiveSocket, t: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(frame["t"], t, "unexpected {frame}");
        }
    }
}

/// A saved strategy and its owner's email.
async fn saved_strategy(app: &TestApp) -> (Trader, String, String) {
    let email = unique_email();
    let trader = Trader {
        browser: app.trader(&email).await,
    };
    let id = trader.create("Live one").await;
    (trader, email, id)
}

/// The change that inserts `text` at `at` into a document of `len` UTF-16 units.
fn insert(len: usize, at: usize, text: &str) -> Value {
    let mut parts = Vec::new();
    if at > 0 {
        parts.push(json!(at));
    }
    let mut replace = vec![json!(0)];
    replace.extend(text.split('\n').map(|line| json!(line)));
    parts.push(Value::Array(replace));
    if len > at {
        parts.push(json!(len - at));
    }
    Value::Array(parts)
}

async fn stored_text(app: &TestApp, id: &str) -> (i64, String) {
    sqlx::query_as("SELECT version, text FROM strategy_live_docs WHERE strategy_id = $1::uuid")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_editor_joins_the_shared_text_and_its_push_comes_back_as_its_confirmation() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let (mut socket, doc) = editor_with_doc(&app, &email, &id, "tab-a").await;
    assert_eq!(doc["v"], 0);
    assert_eq!(doc["text"], document("Live one"));
    assert_eq!(doc["format"], "yaml");
    assert_eq!(doc["read_only"], Value::Null);

    let len = document("Live one").len();
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, 0, "# mine\n")}]}),
    )
    .await;
    let updates = next(&mut socket, "updates").await;
    assert_eq!(updates["from"], 0);
    assert_eq!(updates["u"][0]["client"], "tab-a");
    let (version, text) = stored_text(&app, &id).await;
    assert_eq!(version, 1);
    assert_eq!(text, format!("# mine\n{}", document("Live one")));
}

#[tokio::test]
async fn a_push_on_an_old_version_is_told_behind_and_converges_after_catching_up() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let (mut a, mut b) = two_editors(&app, &email, &id).await;

    send(
        &mut a,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, 0, "A")}]}),
    )
    .await;
    // A's push is committed (its confirmation is back) before B pushes on version 0.
    let first = next(&mut a, "updates").await;
    assert_eq!(
        (first["from"].clone(), first["u"][0]["client"].clone()),
        (json!(0), json!("a"))
    );
    send(
        &mut b,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, len, "B")}]}),
    )
    .await;
    // B is told its push came late, and hears A's update (either first), rebases its insert
    // by one and pushes again.
    let [behind, heard] = &next_each(&mut b, &["behind", "updates"]).await[..] else {
        unreachable!()
    };
    assert_eq!(behind["v"], 1);
    assert_eq!(heard["from"], 0);
    assert_eq!(heard["u"][0]["client"], "a");
    send(
        &mut b,
        json!({"t": "push", "v": 1, "u": [{"c": insert(len + 1, len + 1, "B")}]}),
    )
    .await;
    for socket in [&mut a, &mut b] {
        let second = next(socket, "updates").await;
        assert_eq!(second["from"], 1);
        assert_eq!(second["u"][0]["client"], "b");
    }
    let (version, text) = stored_text(&app, &id).await;
    assert_eq!(version, 2);
    assert_eq!(text, format!("A{}B", document("Live one")));
}

#[tokio::test]
async fn refused_pushes_say_why_and_leave_the_document_unchanged() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let mut socket = editor(&app, &email, &id).await;
    send(&mut socket, json!({"t": "hello", "client": "a", "v": 0})).await;

    // A change made for another document (one character too long).
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": [len + 1, [0, "x"]]}]}),
    )
    .await;
    let refused = next(&mut socket, "refused").await;
    assert_eq!(refused["code"], "bad_changes");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("does not fit"));

    // A paste that takes the document past 256 KB.
    let paste = "x".repeat(300 * 1024);
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, len, &paste)}]}),
    )
    .await;
    let refused = next(&mut socket, "refused").await;
    assert_eq!(refused["code"], "too_large");
    assert!(refused["message"].as_str().unwrap().contains("256 KB"));

    // U+0000 in typed text.
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, 0, "a\u{0}b")}]}),
    )
    .await;
    assert_eq!(next(&mut socket, "refused").await["code"], "bad_changes");

    let (version, text) = stored_text(&app, &id).await;
    assert_eq!(version, 0);
    assert_eq!(text, document("Live one"));
}

#[tokio::test]
async fn a_200_kb_paste_arrives_whole_at_the_other_editor() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let (mut a, mut b) = two_editors(&app, &email, &id).await;
    let paste = format!("# {}\n", "é".repeat(100 * 1024));
    send(
        &mut a,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, len, &paste)}]}),
    )
    .await;
    let heard = next(&mut b, "updates").await;
    assert_eq!(heard["u"][0]["c"], insert(len, len, &paste));
    assert_eq!(stored_text(&app, &id).await.1.len(), len + paste.len());
}

#[tokio::test]
async fn saving_from_live_version_n_stores_exactly_the_text_at_n() {
    let app = spawn_app().await;
    let (trader, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let mut socket = editor(&app, &email, &id).await;
    send(&mut socket, json!({"t": "hello", "client": "a", "v": 0})).await;
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, 0, "# one\n")}]}),
    )
    .await;
    next(&mut socket, "updates").await;
    send(
        &mut socket,
        json!({"t": "push", "v": 1, "u": [{"c": insert(len + 6, 0, "# two\n")}]}),
    )
    .await;
    next(&mut socket, "updates").await;

    let response = trader
        .browser
        .call(
            "/api/strategies/save_live",
            &[("id", id.as_str()), ("live", "1"), ("draft", "true")],
        )
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["version"], 2);
    let content: String = sqlx::query_scalar(
        "SELECT content FROM strategy_versions WHERE strategy_id = $1::uuid AND number = 2",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(content, format!("# one\n{}", document("Live one")));
    // The shared text keeps what was typed after version 1, and every editor is told.
    assert_eq!(
        stored_text(&app, &id).await.1,
        format!("# two\n# one\n{}", document("Live one"))
    );
    let saved = next(&mut socket, "saved").await;
    assert_eq!(saved["version"], 2);

    // Saving the same text again makes no second version.
    let again: Value = trader
        .browser
        .call(
            "/api/strategies/save_live",
            &[("id", id.as_str()), ("live", "1"), ("draft", "true")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], 2);
}

#[tokio::test]
async fn a_save_from_outside_the_live_document_reaches_its_editors_as_a_server_change() {
    let app = spawn_app().await;
    let (trader, email, id) = saved_strategy(&app).await;
    let mut socket = editor(&app, &email, &id).await;
    send(&mut socket, json!({"t": "hello", "client": "a", "v": 0})).await;
    next(&mut socket, "peers").await;
    let changed = document("Live one").replace("period: 14", "period: 21");
    let response = trader.save(Some(&id), &changed, Some(1), false).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let [heard, saved] = &next_each(&mut socket, &["updates", "saved"]).await[..] else {
        unreachable!()
    };
    assert_eq!(heard["u"][0]["client"], "server");
    assert_eq!(stored_text(&app, &id).await.1, changed);
    assert_eq!(saved["version"], 2);
}

#[tokio::test]
async fn a_cursor_reaches_the_other_editor_but_not_its_own() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let mut a = editor(&app, &email, &id).await;
    let mut b = editor(&app, &email, &id).await;
    send(&mut a, json!({"t": "hello", "client": "a", "v": 0})).await;
    next(&mut a, "peers").await;
    send(&mut b, json!({"t": "hello", "client": "b", "v": 0})).await;
    let peers = next(&mut a, "peers").await;
    assert_eq!(peers["peers"][0]["client"], "b");
    // Both tabs are one browser's: each is told the label the others see for it, and it is b's.
    assert_eq!(peers["you"], peers["peers"][0]["label"]);
    send(&mut b, json!({"t": "sel", "v": 0, "r": [[3, 7]]})).await;
    let sel = next(&mut a, "sel").await;
    assert_eq!(sel["client"], "b");
    assert_eq!(sel["r"], json!([[3, 7]]));
    assert!(sel["label"].as_str().unwrap().starts_with("You · "));
    nothing_of(&mut b, "sel").await;
    drop(b);
    assert_eq!(next(&mut a, "gone").await["client"], "b");
}

#[tokio::test]
async fn a_reconnecting_editor_gets_what_it_missed_and_a_stranger_gets_nothing() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let mut a = editor(&app, &email, &id).await;
    send(&mut a, json!({"t": "hello", "client": "a", "v": 0})).await;
    for (v, text) in ["1", "2", "3"].iter().enumerate() {
        send(
            &mut a,
            json!({"t": "push", "v": v, "u": [{"c": insert(len + v, 0, text)}]}),
        )
        .await;
        next(&mut a, "updates").await;
    }
    let mut back = editor(&app, &email, &id).await;
    send(&mut back, json!({"t": "hello", "client": "a", "v": 1})).await;
    let missed = next(&mut back, "updates").await;
    assert_eq!(missed["from"], 1);
    assert_eq!(missed["u"].as_array().unwrap().len(), 2);

    let stranger = unique_email();
    app.trader(&stranger).await;
    let (cookie, _) = app.session(&stranger).await;
    let refused = app
        .socket_at(&format!("/strategies/live/{id}"), &cookie)
        .await
        .err();
    assert_eq!(refused, Some(404));
}

#[tokio::test]
async fn archiving_turns_the_editors_read_only_and_deleting_closes_them() {
    let app = spawn_app().await;
    let (trader, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let mut socket = editor(&app, &email, &id).await;
    send(&mut socket, json!({"t": "hello", "client": "a", "v": 0})).await;
    next(&mut socket, "peers").await;

    let archived = trader
        .browser
        .call(
            "/api/strategies/status",
            &[("id", id.as_str()), ("transition", "archive")],
        )
        .await;
    assert_eq!(archived.status(), 200, "{:?}", archived.text().await);
    let mode = next(&mut socket, "mode").await;
    assert!(mode["read_only"].as_str().unwrap().contains("archived"));
    send(
        &mut socket,
        json!({"t": "push", "v": 0, "u": [{"c": insert(len, 0, "x")}]}),
    )
    .await;
    let refused = next(&mut socket, "refused").await;
    assert_eq!(refused["code"], "read_only");
    assert_eq!(stored_text(&app, &id).await, (0, document("Live one")));

    let deleted = trader
        .browser
        .call("/api/strategies/delete", &[("id", id.as_str())])
        .await;
    assert_eq!(deleted.status(), 200, "{:?}", deleted.text().await);
    let closed = next(&mut socket, "closed").await;
    assert_eq!(closed["code"], "deleted");
}

#[tokio::test]
async fn editors_taking_turns_with_a_save_between_build_the_text_each_heard() {
    let app = spawn_app().await;
    let (trader, email, id) = saved_strategy(&app).await;
    // Both start from the whole document, so each socket knows the text it pushes on.
    let (mut a, doc) = editor_with_doc(&app, &email, &id, "a").await;
    assert_eq!(doc["v"], 0);
    let (mut b, doc) = editor_with_doc(&app, &email, &id, "b").await;
    assert_eq!(doc["v"], 0);
    let mut expected = document("Live one");
    let mut version = 0;
    for turn in 0..6 {
        if turn == 3 {
            // A save from outside replaces the text with a server-made update.
            expected = expected.replace("period: 14", "period: 21");
            let response = trader.save(Some(&id), &expected, Some(1), false).await;
            assert_eq!(response.status(), 200, "{:?}", response.text().await);
            version += 1;
            for socket in [&mut a, &mut b] {
                let heard = next(socket, "updates").await;
                assert_eq!(heard["u"][0]["client"], "server");
            }
        }
        let (pusher, other) = if turn % 2 == 0 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        let typed = format!("# turn {turn}\n");
        send(
            pusher,
            json!({"t": "push", "v": version, "u": [{"c": insert(expected.len(), 0, &typed)}]}),
        )
        .await;
        for socket in [pusher, other] {
            let heard = next(socket, "updates").await;
            assert_eq!(heard["from"], version);
        }
        expected.insert_str(0, &typed);
        version += 1;
        assert_eq!(stored_text(&app, &id).await, (version, expected.clone()));
    }
}

#[tokio::test]
async fn a_push_of_too_many_changes_is_refused_and_a_flood_or_a_huge_frame_closes_the_socket() {
    let app = spawn_app().await;
    let (_, email, id) = saved_strategy(&app).await;
    let len = document("Live one").len();
    let mut socket = editor(&app, &email, &id).await;
    send(&mut socket, json!({"t": "hello", "client": "a", "v": 0})).await;
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"c": insert(len + i, 0, "x")}))
        .collect();
    send(&mut socket, json!({"t": "push", "v": 0, "u": many})).await;
    let refused = next(&mut socket, "refused").await;
    assert_eq!(refused["code"], "bad_changes");
    assert_eq!(
        refused["message"],
        "At most 100 changes can be sent at once; this sent 101."
    );
    assert_eq!(stored_text(&app, &id).await.0, 0);

    // More messages than the bound allows (40 a second, four seconds' worth at once): told so,
    // then closed.
    for _ in 0..250 {
        send(&mut socket, json!({"t": "ping"})).await;
    }
    let closed = next(&mut socket, "closed").await;
    assert_eq!(closed["code"], "too_many");
    assert_eq!(closed["message"], "Too many messages: at most 40 a second.");

    // A frame over 2 MiB is not read: the connection ends.
    let mut huge = editor(&app, &email, &id).await;
    send(&mut huge, json!({"t": "hello", "client": "h", "v": 0})).await;
    next(&mut huge, "peers").await;
    let _ = huge
        .send(Message::Text("x".repeat(3 * 1024 * 1024).into()))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, huge.next()).await {
            Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("the connection stays open after a 3 MiB frame"),
        }
    }
    assert_eq!(stored_text(&app, &id).await.0, 0);
}
