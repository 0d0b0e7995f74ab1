//! The bridge to CodeMirror 6 (`editor/codemirror.mjs`, bundled by `editor/build` into the
//! site as `/editor/codemirror.js`, and fetched through `/editor/loader.js` only by a page
//! with a code editor): created after hydration on the element the page keeps
//! for it, fed with diagnostics, completions and help from the strategy language, and
//! reporting every change back. CodeMirror counts positions in UTF-16 code units, the language
//! in bytes: the conversions live here.

#[cfg(feature = "hydrate")]
pub use bridge::{Callbacks, CodeEditor, LiveEvent, LiveOptions};

/// The UTF-16 offset of byte `byte` of `text` (clamped to the text).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn utf16_offset(text: &str, byte: usize) -> u32 {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].encode_utf16().count() as u32
}

/// The byte offset of UTF-16 offset `unit` of `text` (clamped to the text).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn byte_offset(text: &str, unit: u32) -> usize {
    let mut units = 0u32;
    for (index, c) in text.char_indices() {
        if units >= unit {
            return index;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

#[cfg(feature = "hydrate")]
mod bridge {
    use js_sys::{Array, Object, Reflect};
    use leptos::wasm_bindgen::prelude::*;

    use super::{byte_offset, utf16_offset};
    use crate::language::{assist, Diagnostic, Format, Strategy};

    // Every page's JavaScript imports this small module; it fetches CodeMirror itself
    // (`/editor/codemirror.js`) only on a page with a code editor (`editor/loader.mjs`).
    #[wasm_bindgen(raw_module = "/editor/loader.js")]
    extern "C" {
        /// A promise of the editor's `Handle`, once CodeMirror has arrived.
        #[wasm_bindgen(js_name = createEditor)]
        fn create_editor(
            parent: &web_sys::HtmlElement,
            options: &JsValue,
            callbacks: &JsValue,
        ) -> js_sys::Promise;
    }

    #[wasm_bindgen]
    extern "C" {
        type Handle;
        #[wasm_bindgen(method, js_name = getText)]
        fn get_text(this: &Handle) -> String;
        #[wasm_bindgen(method, js_name = replaceText)]
        fn replace_text(this: &Handle, text: &str);
        #[wasm_bindgen(method, js_name = setFormat)]
        fn set_format(this: &Handle, format: &str);
        #[wasm_bindgen(method, js_name = setDiagnostics)]
        fn set_diagnostics(this: &Handle, list: &JsValue);
        #[wasm_bindgen(method, js_name = goTo)]
        fn go_to(this: &Handle, position: u32);
        #[wasm_bindgen(method)]
        fn destroy(this: &Handle);
        #[wasm_bindgen(method, js_name = flushLive)]
        fn flush_live(this: &Handle, timeout_ms: u32) -> js_sys::Promise;
        #[wasm_bindgen(method, js_name = switchFormat)]
        fn switch_format(this: &Handle, format: &str, text: &str);
    }

    fn set(object: &Object, key: &str, value: &JsValue) {
        let _ = Reflect::set(object, &JsValue::from_str(key), value);
    }

    /// The editor and the callbacks it holds (kept alive as long as the editor).
    pub struct CodeEditor {
        handle: Handle,
        _closures: Vec<Box<dyn std::any::Any>>,
    }

    /// Where the editor joins its strategy's live document: the socket's path and the version
    /// of the text it starts from.
    pub struct LiveOptions {
        pub url: String,
        pub version: u64,
    }

    /// What the live document tells the page (`editor/collab.mjs`, `onLive`). Its peers are
    /// not among them: the live channel's presence already counts every open editor.
    pub enum LiveEvent {
        /// "connecting", "live", "reconnecting" or "offline".
        Status(String),
        /// Other editors' changes reached this one.
        Remote,
        Format(Format),
        Saved {
            version: i32,
        },
        Mode {
            read_only: Option<String>,
        },
        Refused {
            message: String,
        },
        Closed {
            message: String,
        },
        /// Changes made offline met newer ones the server had: the editor now shows the
        /// server's text, and `mine` is what this tab had.
        Diverged {
            mine: String,
        },
    }

    fn field(event: &JsValue, key: &str) -> JsValue {
        Reflect::get(event, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    impl LiveEvent {
        fn read(event: &JsValue) -> Option<LiveEvent> {
            let text = |key: &str| field(event, key).as_string();
            Some(match text("kind")?.as_str() {
                "status" => LiveEvent::Status(text("status")?),
                "remote" | "doc" => LiveEvent::Remote,
                "format" => LiveEvent::Format(Format::from_name(&text("format")?)?),
                "saved" => LiveEvent::Saved {
                    version: field(event, "version").as_f64()? as i32,
                },
                "mode" => LiveEvent::Mode {
                    read_only: text("readOnly"),
                },
                "refused" => LiveEvent::Refused {
                    message: text("message").unwrap_or_default(),
                },
                "closed" => LiveEvent::Closed {
                    message: text("message").unwrap_or_default(),
                },
                "diverged" => LiveEvent::Diverged {
                    mine: text("mine").unwrap_or_default(),
                },
                _ => return None,
            })
        }
    }

    pub struct Callbacks {
        pub on_change: Box<dyn FnMut(String)>,
        pub on_save: Box<dyn FnMut()>,
        pub on_test: Box<dyn FnMut()>,
        /// The strategy as last validated, for completing the document's own names.
        pub strategy: Box<dyn Fn() -> Option<Strategy>>,
        pub on_live: Box<dyn FnMut(LiveEvent)>,
    }

    impl CodeEditor {
        /// The editor on `parent`, once CodeMirror has arrived; `None` when it could not be
        /// fetched (the page keeps its plain text area, which still saves). Everything but
        /// the wait is done at once, so the future holds only the wait.
        pub fn new(
            parent: &web_sys::HtmlElement,
            text: &str,
            format: Format,
            nonce: Option<String>,
            read_only: bool,
            live: Option<LiveOptions>,
            callbacks: Callbacks,
        ) -> impl std::future::Future<Output = Option<Self>> {
            let options = Object::new();
            set(&options, "doc", &JsValue::from_str(text));
            set(&options, "format", &JsValue::from_str(format.name()));
            set(
                &options,
                "nonce",
                &nonce.map_or(JsValue::NULL, |n| JsValue::from_str(&n)),
            );
            set(&options, "label", &JsValue::from_str("Strategy document"));
            set(&options, "readOnly", &JsValue::from_bool(read_only));
            if let Some(live) = live {
                let joined = Object::new();
                set(&joined, "url", &JsValue::from_str(&live.url));
                set(&joined, "version", &JsValue::from(live.version as f64));
                set(&options, "live", &joined);
            }

            let Callbacks {
                on_change,
                on_save,
                on_test,
                strategy,
                mut on_live,
            } = callbacks;
            let on_live = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                if let Some(event) = LiveEvent::read(&event) {
                    on_live(event);
                }
            });
            let on_change = Closure::<dyn FnMut(String)>::new(on_change);
            let on_save = Closure::<dyn FnMut()>::new(on_save);
            let on_test = Closure::<dyn FnMut()>::new(on_test);
            let complete = Closure::<dyn FnMut(String, u32, bool) -> JsValue>::new(
                move |text: String, position: u32, explicit: bool| {
                    let offset = byte_offset(&text, position);
                    let Some(completions) = assist::complete(&text, offset, strategy().as_ref())
                    else {
                        return JsValue::NULL;
                    };
                    // While typing, the list opens once a word is begun; with nothing begun it
                    // opens only when asked (Ctrl+Space). Else a space after a finished
                    // expression pops up the whole vocabulary, and the Enter that should end
                    // the line takes its first entry instead.
                    if !explicit && completions.from == offset {
                        return JsValue::NULL;
                    }
                    let result = Object::new();
                    set(
                        &result,
                        "from",
                        &JsValue::from(utf16_offset(&text, completions.from)),
                    );
                    let options = Array::new();
                    for item in completions.items {
                        let option = Object::new();
                        set(&option, "label", &JsValue::from_str(&item.label));
                        set(&option, "type", &JsValue::from_str(item.kind));
                        set(&option, "detail", &JsValue::from_str(&item.detail));
                        set(&option, "info", &JsValue::from_str(&item.info));
                        set(&option, "apply", &JsValue::from_str(&item.apply));
                        options.push(&option);
                    }
                    set(&result, "options", &options);
                    result.into()
                },
            );
            let hover = Closure::<dyn FnMut(String, u32) -> JsValue>::new(
                move |text: String, position: u32| {
                    assist::hover(&text, byte_offset(&text, position))
                        .map_or(JsValue::NULL, |help| JsValue::from_str(&help))
                },
            );
            let functions = Object::new();
            set(&functions, "onChange", on_change.as_ref());
            set(&functions, "onSave", on_save.as_ref());
            set(&functions, "onTest", on_test.as_ref());
            set(&functions, "complete", complete.as_ref());
            set(&functions, "hover", hover.as_ref());
            set(&functions, "onLive", on_live.as_ref());
            let created =
                wasm_bindgen_futures::JsFuture::from(create_editor(parent, &options, &functions));
            let closures: Vec<Box<dyn std::any::Any>> = vec![
                Box::new(on_change),
                Box::new(on_save),
                Box::new(on_test),
                Box::new(complete),
                Box::new(hover),
                Box::new(on_live),
            ];
            async move {
                let handle = created.await.ok()?;
                Some(CodeEditor {
                    handle: handle.unchecked_into(),
                    _closures: closures,
                })
            }
        }

        pub fn text(&self) -> String {
            self.handle.get_text()
        }

        /// Rewrites the document as one undoable step (builder edits, discarding changes).
        pub fn replace_text(&self, text: &str) {
            self.handle.replace_text(text);
        }

        pub fn set_format(&self, format: Format) {
            self.handle.set_format(format.name());
        }

        /// Rewrites the text into the other notation as one undoable step that switches every
        /// live editor of the document too.
        pub fn switch_format(&self, format: Format, text: &str) {
            self.handle.switch_format(format.name(), text);
        }

        /// Waits (at most `timeout_ms`) until the live document has every change typed here,
        /// and answers its version then; `None` when it cannot (offline, refused, too slow).
        pub fn flush_live(
            &self,
            timeout_ms: u32,
        ) -> impl std::future::Future<Output = Option<u64>> {
            let flushed = wasm_bindgen_futures::JsFuture::from(self.handle.flush_live(timeout_ms));
            async move { flushed.await.ok()?.as_f64().map(|version| version as u64) }
        }

        /// Underlines each diagnostic at its span in `text` (the text they were found in).
        pub fn show_diagnostics(&self, text: &str, diagnostics: &[Diagnostic]) {
            let list = Array::new();
            for diagnostic in diagnostics {
                let item = Object::new();
                set(
                    &item,
                    "from",
                    &JsValue::from(utf16_offset(text, diagnostic.span.start)),
                );
                set(
                    &item,
                    "to",
                    &JsValue::from(utf16_offset(text, diagnostic.span.end)),
                );
                set(
                    &item,
                    "severity",
                    &JsValue::from_str(diagnostic.severity.label()),
                );
                set(&item, "message", &JsValue::from_str(&diagnostic.message));
                set(&item, "source", &JsValue::from_str(&diagnostic.code));
                let fixes = Array::new();
                for fix in &diagnostic.fixes {
                    let entry = Object::new();
                    set(&entry, "label", &JsValue::from_str(&fix.label));
                    let changes = Array::new();
                    for edit in &fix.edits {
                        let change = Object::new();
                        set(
                            &change,
                            "from",
                            &JsValue::from(utf16_offset(text, edit.span.start)),
                        );
                        set(
                            &change,
                            "to",
                            &JsValue::from(utf16_offset(text, edit.span.end)),
                        );
                        set(&change, "insert", &JsValue::from_str(&edit.insert));
                        changes.push(&change);
                    }
                    set(&entry, "changes", &changes);
                    fixes.push(&entry);
                }
                set(&item, "fixes", &fixes);
                list.push(&item);
            }
            self.handle.set_diagnostics(&list);
        }

        /// Moves the cursor to byte `offset` of `text` and focuses the editor.
        pub fn go_to(&self, text: &str, offset: usize) {
            self.handle.go_to(utf16_offset(text, offset));
        }
    }

    impl Drop for CodeEditor {
        fn drop(&mut self) {
            self.handle.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_convert_between_bytes_and_utf16_units() {
        let text = "a€b😀c";
        assert_eq!(utf16_offset(text, 0), 0);
        assert_eq!(utf16_offset(text, 1), 1);
        assert_eq!(utf16_offset(text, 4), 2); // after the euro sign (3 bytes, 1 unit)
        assert_eq!(utf16_offset(text, 9), 5); // after the emoji (4 bytes, 2 units)
        assert_eq!(byte_offset(text, 2), 4);
        assert_eq!(byte_offset(text, 5), 9);
        assert_eq!(byte_offset(text, 99), text.len());
    }
}
