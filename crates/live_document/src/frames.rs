//! The socket's JSON text frames, each an object tagged by `"t"`: what an editor sends
//! (`ClientFrame`) and what the server sends it (`ServerFrame`). Versions are collab versions;
//! positions and lengths are UTF-16 code units, as CodeMirror counts them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::changes::ChangeSet;
use crate::document::Notation;
use crate::error::ChangeError;

/// The most selection ranges a `sel` frame may carry (an editor with more multi-cursors shows
/// the first ones to its peers).
pub const MAX_SELECTION_RANGES: usize = 100;

/// The longest editor id: a random id per editor instance, stored as VARCHAR(32).
pub const MAX_CLIENT_LEN: usize = 32;

/// A frame from an editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase", deny_unknown_fields)]
pub enum ClientFrame {
    /// The first frame: which editor this is, and the version it last synced (absent: send it
    /// the whole document).
    Hello {
        client: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        v: Option<u64>,
    },
    /// Unconfirmed updates made on version `v`.
    Push {
        v: u64,
        u: Vec<PushedUpdate>,
    },
    /// Send the updates after version `v`.
    Pull {
        v: u64,
    },
    /// The editor's selection at version `v`.
    Sel {
        v: u64,
        r: Vec<SelectionRange>,
    },
    Ping,
}

/// One update of a push: the change, and the notation it switched the document to, if it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedUpdate {
    /// `ChangeSet.toJSON()`, kept as sent: stored as is, read with `changes()`.
    pub c: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<Notation>,
}

impl PushedUpdate {
    /// The change this update carries.
    pub fn changes(&self) -> Result<ChangeSet, ChangeError> {
        ChangeSet::from_json(&self.c)
    }
}

/// A selection range, `[anchor, head]` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionRange(pub u64, pub u64);

impl SelectionRange {
    pub fn anchor(self) -> u64 {
        self.0
    }

    pub fn head(self) -> u64 {
        self.1
    }
}

/// Why a client frame was not accepted. The editor is ours, so this means a bug or a forged
/// frame; the sentence is for the log and the `closed` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Not JSON, or not one of the frames; serde's words say where.
    Unreadable(String),
    /// A `hello` whose editor id is empty, too long or has other characters than
    /// `A-Z a-z 0-9 _ -`.
    BadClient,
    /// A `sel` with more than `MAX_SELECTION_RANGES` ranges.
    TooManyRanges(usize),
    /// A `push` with no update in it.
    EmptyPush,
}

impl FrameError {
    /// The code of the `closed` frame the server answers with.
    pub fn code(&self) -> &'static str {
        "bad_frame"
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Unreadable(detail) => {
                write!(f, "The editor sent a message the server could not read ({detail}).")
            }
            FrameError::BadClient => write!(
                f,
                "The editor introduced itself with an id of the wrong form: 1 to \
                 {MAX_CLIENT_LEN} letters, digits, '_' or '-'."
            ),
            FrameError::TooManyRanges(count) => write!(
                f,
                "The editor sent {count} selection ranges; at most {MAX_SELECTION_RANGES} are shared."
            ),
            FrameError::EmptyPush => write!(f, "The editor sent a push with no change in it."),
        }
    }
}

impl std::error::Error for FrameError {}

/// Whether `id` has the form of an editor id: 1 to 32 characters of `A-Z a-z 0-9 _ -`.
pub fn is_client_id(id: &str) -> bool {
    (1..=MAX_CLIENT_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

impl ClientFrame {
    /// Reads a text frame and checks what serde cannot (`check`).
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        let frame: ClientFrame = serde_json::from_str(text)
            .map_err(|error| FrameError::Unreadable(error.to_string()))?;
        frame.check()?;
        Ok(frame)
    }

    /// The rules serde's shapes do not hold: the form of the editor id, the number of selection
    /// ranges, a push that carries something. The changes themselves are read by the push.
    pub fn check(&self) -> Result<(), FrameError> {
        match self {
            ClientFrame::Hello { client, .. } if !is_client_id(client) => {
                Err(FrameError::BadClient)
            }
            ClientFrame::Sel { r, .. } if r.len() > MAX_SELECTION_RANGES => {
                Err(FrameError::TooManyRanges(r.len()))
            }
            ClientFrame::Push { u, .. } if u.is_empty() => Err(FrameError::EmptyPush),
            _ => Ok(()),
        }
    }
}

/// A frame to an editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase", deny_unknown_fields)]
pub enum ServerFrame {
    /// The whole document at version `v`; `read_only` is null or says why it cannot be edited.
    Doc {
        v: u64,
        text: String,
        format: Notation,
        saved: SavedVersion,
        read_only: Option<String>,
    },
    /// Versions `from + 1` … `from + u.len()`, in order, the receiver's own included (that is
    /// how its pushes are confirmed).
    Updates {
        from: u64,
        u: Vec<ServedUpdate>,
    },
    /// The push was made on an old version; the document is at `v`.
    Behind {
        v: u64,
    },
    /// The push can never be accepted as it is; the document is at `v`.
    Refused {
        code: Refusal,
        message: String,
        v: u64,
    },
    /// Every other editor of the document, and the label the others see for this one (so that
    /// it can tell its own browser's other tabs from the rest).
    Peers {
        peers: Vec<Peer>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        you: Option<String>,
    },
    /// Another editor's selection at version `v`.
    Sel {
        client: String,
        label: String,
        hue: u16,
        v: u64,
        r: Vec<SelectionRange>,
    },
    /// Another editor left.
    Gone {
        client: String,
    },
    /// The document became editable (null) or read-only (the sentence says why).
    Mode {
        read_only: Option<String>,
    },
    /// A strategy version was saved from live version `live`.
    Saved {
        version: u64,
        live: u64,
        /// RFC 3339 time, UTC.
        at: String,
        by: String,
    },
    /// The server is closing the socket: `deleted`, `signed_out`, `too_many`, `bad_frame`, …
    Closed {
        code: String,
        message: String,
    },
    Pong,
}

/// The strategy version last saved, and the live version it was saved from (null: never saved
/// from the live document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedVersion {
    pub version: u64,
    pub live: Option<u64>,
}

/// One accepted update as peers receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedUpdate {
    pub c: Value,
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f: Option<Notation>,
}

impl ServedUpdate {
    /// The change this update carries.
    pub fn changes(&self) -> Result<ChangeSet, ChangeError> {
        ChangeSet::from_json(&self.c)
    }
}

/// Another editor of the document, as the receiver shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    pub client: String,
    pub label: String,
    /// A colour hue, 0–359.
    pub hue: u16,
}

/// Why a push was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    TooLarge,
    BadChanges,
    ReadOnly,
    Rate,
}

impl ServerFrame {
    /// The `refused` frame for a change the document could not take, at version `v`.
    pub fn refused(error: &ChangeError, v: u64) -> ServerFrame {
        let code = match error {
            ChangeError::TooLarge { .. } => Refusal::TooLarge,
            _ => Refusal::BadChanges,
        };
        ServerFrame::Refused {
            code,
            message: error.to_string(),
            v,
        }
    }

    /// The frame as the socket's text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a frame of strings, numbers and JSON values")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(json: Value) -> Result<ClientFrame, FrameError> {
        ClientFrame::parse(&json.to_string())
    }

    /// The frame reads from `json`, and writes back exactly `json`.
    fn round_trips<T>(json: Value) -> T
    where
        T: Serialize + for<'de> Deserialize<'de>,
    {
        let frame: T = serde_json::from_value(json.clone()).expect("a frame");
        assert_eq!(serde_json::to_value(&frame).unwrap(), json);
        frame
    }

    #[test]
    fn a_frame_round_trips_through_json() {
        let frame: ClientFrame = round_trips(
            json!({"t": "push", "v": 41, "u": [{"c": [12, [0, "a"], 30], "f": "toml"}]}),
        );
        let ClientFrame::Push { v, u } = frame else {
            panic!("a push");
        };
        assert_eq!(v, 41);
        assert_eq!(u[0].f, Some(Notation::Toml));
        assert_eq!(u[0].changes().unwrap().input_len(), 42);
    }

    #[test]
    fn every_client_frame_of_the_protocol_round_trips() {
        for json in [
            json!({"t": "hello", "client": "k3f9a2", "v": 41}),
            json!({"t": "hello", "client": "k3f9a2"}),
            json!({"t": "push", "v": 41, "u": [{"c": [3]}, {"c": [[3, "x"]], "f": "yaml"}]}),
            json!({"t": "pull", "v": 41}),
            json!({"t": "sel", "v": 43, "r": [[15, 15], [20, 24]]}),
            json!({"t": "ping"}),
        ] {
            let frame: ClientFrame = round_trips(json.clone());
            assert_eq!(frame.check(), Ok(()), "{json}");
        }
    }

    #[test]
    fn every_server_frame_of_the_protocol_round_trips() {
        for json in [
            json!({"t": "doc", "v": 57, "text": "a: 1\n", "format": "yaml",
                   "saved": {"version": 7, "live": 50}, "read_only": null}),
            json!({"t": "doc", "v": 0, "text": "", "format": "toml",
                   "saved": {"version": 1, "live": null},
                   "read_only": "This strategy is active: deactivate it to edit it."}),
            json!({"t": "updates", "from": 41,
                   "u": [{"c": [3], "client": "k3f9a2"}, {"c": [[3]], "client": "q81z", "f": "toml"}]}),
            json!({"t": "behind", "v": 57}),
            json!({"t": "refused", "code": "too_large", "message": "m", "v": 57}),
            json!({"t": "refused", "code": "read_only", "message": "m", "v": 57}),
            json!({"t": "peers", "peers": [{"client": "q81z", "label": "You · Chrome", "hue": 30}]}),
            json!({"t": "sel", "client": "q81z", "label": "You · Chrome", "hue": 30, "v": 57,
                   "r": [[100, 104]]}),
            json!({"t": "gone", "client": "q81z"}),
            json!({"t": "mode", "read_only": null}),
            json!({"t": "mode", "read_only": "This strategy is active: deactivate it to edit it."}),
            json!({"t": "saved", "version": 8, "live": 57, "at": "2026-12-07T12:03:00Z", "by": "you"}),
            json!({"t": "closed", "code": "signed_out", "message": "You signed out."}),
            json!({"t": "pong"}),
        ] {
            let frame: ServerFrame = round_trips(json.clone());
            assert_eq!(
                serde_json::from_str::<Value>(&frame.to_text()).unwrap(),
                json
            );
        }
    }

    #[test]
    fn a_hello_without_a_version_asks_for_the_whole_document() {
        assert_eq!(
            client(json!({"t": "hello", "client": "a"})),
            Ok(ClientFrame::Hello {
                client: "a".into(),
                v: None
            })
        );
    }

    #[test]
    fn an_editor_id_of_the_wrong_form_is_refused() {
        let long = "a".repeat(33);
        for id in ["", "k3 f9", "k3f9/..", "é", long.as_str()] {
            assert_eq!(
                client(json!({"t": "hello", "client": id})),
                Err(FrameError::BadClient),
                "{id:?}"
            );
        }
        assert!(client(json!({"t": "hello", "client": "a".repeat(32)})).is_ok());
        assert!(client(json!({"t": "hello", "client": "Ab_9-z"})).is_ok());
    }

    #[test]
    fn more_than_a_hundred_selection_ranges_are_refused() {
        let ranges = |count: usize| vec![[1, 2]; count];
        assert!(client(json!({"t": "sel", "v": 1, "r": ranges(100)})).is_ok());
        assert_eq!(
            client(json!({"t": "sel", "v": 1, "r": ranges(101)})),
            Err(FrameError::TooManyRanges(101))
        );
    }

    #[test]
    fn an_empty_push_is_refused() {
        assert_eq!(
            client(json!({"t": "push", "v": 1, "u": []})),
            Err(FrameError::EmptyPush)
        );
    }

    #[test]
    fn frames_of_another_shape_are_unreadable() {
        for json in [
            json!({"t": "hello"}),
            json!({"t": "HELLO", "client": "a"}),
            json!({"t": "shout", "v": 1}),
            json!({"v": 1}),
            json!({"t": "pull", "v": -1}),
            json!({"t": "pull", "v": 1, "extra": true}),
            json!({"t": "push", "v": 1, "u": [{"c": [1], "f": "json"}]}),
            json!({"t": "push", "v": 1, "u": [{"c": [1], "x": 1}]}),
            json!({"t": "sel", "v": 1, "r": [[1, 2, 3]]}),
            json!({"t": "sel", "v": 1, "r": [[1]]}),
        ] {
            let result = client(json.clone());
            assert!(
                matches!(result, Err(FrameError::Unreadable(_))),
                "{json}: {result:?}"
            );
        }
        assert!(matches!(
            ClientFrame::parse("not json"),
            Err(FrameError::Unreadable(_))
        ));
    }

    #[test]
    fn a_refused_change_becomes_a_refused_frame_with_its_sentence() {
        let error = ChangeError::TooLarge {
            bytes: 300 * 1024,
            limit: 256 * 1024,
        };
        assert_eq!(
            serde_json::from_str::<Value>(&ServerFrame::refused(&error, 57).to_text()).unwrap(),
            json!({"t": "refused", "code": "too_large",
                   "message": "The document would be 300 KB; the limit is 256 KB.", "v": 57})
        );
        let split = ServerFrame::refused(&ChangeError::SplitsCharacter { at: 1 }, 3);
        assert!(matches!(
            split,
            ServerFrame::Refused {
                code: Refusal::BadChanges,
                ..
            }
        ));
    }

    #[test]
    fn an_optional_notation_is_left_out_not_sent_as_null() {
        let update = ServedUpdate {
            c: json!([1]),
            client: "a".into(),
            f: None,
        };
        assert_eq!(
            serde_json::to_string(&update).unwrap(),
            r#"{"c":[1],"client":"a"}"#
        );
    }
}
