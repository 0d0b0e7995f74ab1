//! The live document's authority: Postgres. A push commits only on the version it was made on,
//! in one statement (write the text, append the update rows, announce them), so any server copy
//! can take any push, the document's row is locked only for that statement, and an
//! acknowledgement is a commit. Nothing here holds state between calls; a socket may pass the
//! text it already knows so that a push reads nothing first.

use live_document::{
    frames::{PushedUpdate, ServedUpdate},
    normalize_seed, ChangeError, ChangeSet, Document, Notation, DOCUMENT_LIMIT_BYTES,
};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::events::LiveDocAdvanced;
use crate::accounts::UserId;
use crate::{
    error::AppError,
    language::Format,
    realtime::{self, RealtimeEvent},
    strategies::{StrategyId, StrategyStatus},
};

/// Updates kept in the log at least, whatever their age; older ones go after `RETENTION_DAYS`.
pub const KEPT_UPDATES: i64 = 1_000;
pub const RETENTION_DAYS: i32 = 7;
/// Updates a socket is sent in one frame at most when it catches up (it asks again for more).
pub const CATCH_UP_BATCH: i64 = 500;
/// How many updates the snapshot may fall behind before a push moves it on.
const SNAPSHOT_EVERY: i64 = 200;
/// Updates in one push at most (an editor sends what it typed since its last confirmation).
pub const MAX_UPDATES_PER_PUSH: usize = 100;

/// What an editor joining the document gets: the text at a version, and whether it may edit.
#[derive(Debug, Clone)]
pub struct Joined {
    pub version: u64,
    pub text: String,
    pub notation: Notation,
    pub saved_version: i32,
    pub saved_live_version: u64,
    pub read_only: Option<&'static str>,
}

/// What became of a push.
#[derive(Debug)]
pub enum Pushed {
    /// Versions `from + 1 ..= to` are committed and announced; the document is now `now`.
    Accepted { from: u64, to: u64, now: Document },
    /// It was made on an old version; the document is at `at`.
    Behind { at: u64 },
    /// It can never be accepted as it is.
    Refused { error: ChangeError, at: u64 },
    /// The strategy cannot be edited in its status (the sentence says why).
    ReadOnly { reason: &'static str, at: u64 },
}

fn notation_of(format: &str) -> Notation {
    Notation::from_name(format).unwrap_or(Notation::Yaml)
}

fn version_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

fn version_value(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Joins the live document of `user`'s strategy `id`, seeding it (once, whoever comes first)
/// from the strategy's current content. 404 for a strategy that is not the user's.
#[tracing::instrument(skip_all)]
pub async fn join(pool: &PgPool, user: UserId, id: StrategyId) -> Result<Joined, AppError> {
    let strategy = sqlx::query!(
        "SELECT content, format, version, status FROM strategies WHERE id = $1 AND user_id = $2",
        id.0,
        user.0
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query!(
        "INSERT INTO strategy_live_docs (strategy_id, version, format, text, snapshot, snapshot_version,
                                         seeded_from_version, saved_version, saved_live_version)
         VALUES ($1, 0, $2, $3, $3, 0, $4, $4, 0)
         ON CONFLICT (strategy_id) DO NOTHING",
        id.0,
        strategy.format,
        normalize_seed(&strategy.content),
        strategy.version
    )
    .execute(pool)
    .await?;
    let doc = sqlx::query!(
        "SELECT version, format, text, saved_version, saved_live_version
         FROM strategy_live_docs WHERE strategy_id = $1",
        id.0
    )
    .fetch_one(pool)
    .await?;
    Ok(Joined {
        version: version_of(doc.version),
        text: doc.text,
        notation: notation_of(&doc.format),
        saved_version: doc.saved_version,
        saved_live_version: version_of(doc.saved_live_version),
        read_only: StrategyStatus::parse(&strategy.status).and_then(StrategyStatus::edit_refusal),
    })
}

/// The updates after version `have`, at most `CATCH_UP_BATCH`; `None` when the log no longer
/// reaches back to `have` (the editor needs the whole document).
#[tracing::instrument(skip_all)]
pub async fn updates_since(
    pool: &PgPool,
    id: StrategyId,
    have: u64,
) -> Result<Option<Vec<ServedUpdate>>, AppError> {
    let rows = sqlx::query!(
        "SELECT version, client_id, changes, format FROM strategy_live_updates
         WHERE strategy_id = $1 AND version > $2 ORDER BY version LIMIT $3",
        id.0,
        version_value(have),
        CATCH_UP_BATCH
    )
    .fetch_all(pool)
    .await?;
    if rows
        .first()
        .is_some_and(|row| version_of(row.version) != have + 1)
    {
        return Ok(None);
    }
    if rows.is_empty() {
        // Nothing newer, or a version the document never reached (a client from before a reset).
        let at = current_version(pool, id).await?;
        if at.is_some_and(|at| have > at) {
            return Ok(None);
        }
    }
    Ok(Some(
        rows.into_iter()
            .map(|row| ServedUpdate {
                c: row.changes,
                client: row.client_id,
                f: row.format.as_deref().map(notation_of),
            })
            .collect(),
    ))
}

/// The document's version, or `None` when it has none (never joined, or deleted).
pub async fn current_version(pool: &PgPool, id: StrategyId) -> Result<Option<u64>, AppError> {
    Ok(sqlx::query_scalar!(
        "SELECT version FROM strategy_live_docs WHERE strategy_id = $1",
        id.0
    )
    .fetch_optional(pool)
    .await?
    .map(version_of))
}

/// The statuses whose documents may change, for the push's one statement.
fn editable_statuses() -> Vec<String> {
    StrategyStatus::ALL
        .into_iter()
        .filter(|status| status.edit_refusal().is_none())
        .map(|status| status.as_str().to_string())
        .collect()
}

/// Applies `updates`, made by editor `client` on version `base`, all or nothing. `known` is the
/// document as the caller last heard of it: at `base`, the push is one statement (a conditional
/// write that appends, rewrites the text and announces), which holds the row's lock only for
/// itself; otherwise the text is read first. Either way the write commits only on `base`.
#[tracing::instrument(skip_all)]
pub async fn push(
    pool: &PgPool,
    user: UserId,
    id: StrategyId,
    client: &str,
    base: u64,
    updates: &[PushedUpdate],
    known: Option<&Document>,
) -> Result<Pushed, AppError> {
    let mut doc = match known {
        Some(known) if known.version == base => known.clone(),
        _ => {
            let now = doc_now(pool, user, id, base).await?;
            if let Some(refused) = now.refuses(base) {
                return Ok(refused);
            }
            Document {
                version: base,
                text: now.text.unwrap_or_default(),
                notation: now.notation,
            }
        }
    };
    let applied = updates
        .iter()
        .map(PushedUpdate::changes)
        .collect::<Result<Vec<_>, _>>()
        .and_then(|changes| doc.apply_updates(&changes, DOCUMENT_LIMIT_BYTES));
    if let Err(error) = applied {
        return Ok(Pushed::Refused { error, at: base });
    }
    doc.notation = updates
        .iter()
        .rev()
        .find_map(|update| update.f)
        .unwrap_or(doc.notation);
    let to = base + updates.len() as u64;
    let changes: Vec<Value> = updates.iter().map(|update| update.c.clone()).collect();
    let formats: Vec<Option<String>> = updates
        .iter()
        .map(|update| update.f.map(|f| f.as_str().to_string()))
        .collect();
    let versions: Vec<i64> = (base + 1..=to).map(version_value).collect();
    let advanced = advance_notice(id, base, to, client, updates);
    let accepted = sqlx::query_scalar!(
        r#"WITH advanced AS (
             UPDATE strategy_live_docs d
             SET version = $4, text = $5, format = $6, updated_at = now() AT TIME ZONE 'utc',
                 snapshot = CASE WHEN $4 - d.snapshot_version >= $7 THEN $5 ELSE d.snapshot END,
                 snapshot_version = CASE WHEN $4 - d.snapshot_version >= $7 THEN $4 ELSE d.snapshot_version END
             FROM strategies s
             WHERE d.strategy_id = $1 AND d.version = $3 AND s.id = d.strategy_id
               AND s.user_id = $2 AND s.status = ANY($8::text[])
             RETURNING d.strategy_id
           ), appended AS (
             INSERT INTO strategy_live_updates (strategy_id, version, client_id, user_id, changes, format)
             SELECT a.strategy_id, u.version, $9, $2, u.changes, u.format
             FROM advanced a, unnest($10::int8[], $11::jsonb[], $12::varchar[]) AS u(version, changes, format)
           )
           SELECT pg_notify($13, $14)::text AS "announced" FROM advanced"#,
        id.0,
        user.0,
        version_value(base),
        version_value(to),
        doc.text,
        doc.notation.as_str(),
        SNAPSHOT_EVERY,
        &editable_statuses(),
        client,
        &versions,
        &changes,
        &formats as &[Option<String>],
        LiveDocAdvanced::CHANNEL,
        advanced.to_payload()
    )
    .fetch_optional(pool)
    .await?;
    if accepted.is_some() {
        return Ok(Pushed::Accepted {
            from: base,
            to,
            now: doc,
        });
    }
    // Refused by the statement: why, as the document is now.
    let now = doc_now(pool, user, id, base).await?;
    Ok(now
        .refuses(base)
        .unwrap_or(Pushed::Behind { at: now.version }))
}

/// `user`'s live document as a push on some version finds it.
struct DocNow {
    version: u64,
    notation: Notation,
    /// Why its strategy cannot be edited, if it cannot.
    refusal: Option<&'static str>,
    /// The text, read only when the document is at the push's version.
    text: Option<String>,
}

impl DocNow {
    /// What a push on `base` is answered, unless it may go ahead.
    fn refuses(&self, base: u64) -> Option<Pushed> {
        let at = self.version;
        match self.refusal {
            Some(reason) => Some(Pushed::ReadOnly { reason, at }),
            None => (base != at).then_some(Pushed::Behind { at }),
        }
    }
}

async fn doc_now(
    pool: &PgPool,
    user: UserId,
    id: StrategyId,
    base: u64,
) -> Result<DocNow, AppError> {
    let doc = sqlx::query!(
        r#"SELECT d.version, d.format, s.status, CASE WHEN d.version = $3 THEN d.text END AS "text?"
           FROM strategy_live_docs d JOIN strategies s ON s.id = d.strategy_id
           WHERE d.strategy_id = $1 AND s.user_id = $2"#,
        id.0,
        user.0,
        version_value(base)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(DocNow {
        version: version_of(doc.version),
        notation: notation_of(&doc.format),
        refusal: StrategyStatus::parse(&doc.status).and_then(StrategyStatus::edit_refusal),
        text: doc.text,
    })
}

async fn append(
    connection: &mut PgConnection,
    id: StrategyId,
    client: &str,
    user: Option<UserId>,
    versions: &[i64],
    changes: &[Value],
    formats: &[Option<String>],
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO strategy_live_updates (strategy_id, version, client_id, user_id, changes, format)
         SELECT $1, version, $3, $4, changes, format
         FROM unnest($2::int8[], $5::jsonb[], $6::varchar[]) AS u(version, changes, format)",
        id.0,
        versions,
        client,
        user.map(|user| user.0),
        changes,
        formats as &[Option<String>]
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// The notice that versions `from + 1 ..= to` exist, with the updates themselves when they fit
/// well inside a `NOTIFY` (else the copies read the rows).
fn advance_notice(
    id: StrategyId,
    from: u64,
    to: u64,
    client: &str,
    updates: &[PushedUpdate],
) -> LiveDocAdvanced {
    let mut event = LiveDocAdvanced {
        strategy_id: id,
        from,
        to,
        updates: Some(
            updates
                .iter()
                .map(|update| ServedUpdate {
                    c: update.c.clone(),
                    client: client.to_string(),
                    f: update.f,
                })
                .collect(),
        ),
    };
    if !event.fits_a_notice() {
        event.updates = None;
    }
    event
}

/// Inside a save's transaction: makes the live document's text `text` (in `format`) with one
/// server-made update when it differs, so every open editor sees a form post, a restore or a
/// save at once, and records `version` as saved from the live version reached. Nothing when the
/// strategy has no live document.
pub async fn follow_save(
    connection: &mut PgConnection,
    user: UserId,
    id: StrategyId,
    text: &str,
    format: Format,
    version: i32,
) -> Result<Option<u64>, AppError> {
    let Some(doc) = sqlx::query!(
        "SELECT version, format, text FROM strategy_live_docs WHERE strategy_id = $1 FOR UPDATE",
        id.0
    )
    .fetch_optional(&mut *connection)
    .await?
    else {
        return Ok(None);
    };
    let text = normalize_seed(text);
    let notation = notation_of(format.name());
    let mut at = version_of(doc.version);
    let switched = notation_of(&doc.format) != notation;
    if doc.text != text || switched {
        let change = ChangeSet::replacing(&doc.text, &text);
        let update = PushedUpdate {
            c: change.to_json(),
            f: switched.then_some(notation),
        };
        let versions = [version_value(at + 1)];
        append(
            connection,
            id,
            "server",
            Some(user),
            &versions,
            std::slice::from_ref(&update.c),
            &[update.f.map(|f| f.as_str().to_string())],
        )
        .await?;
        let notice = advance_notice(id, at, at + 1, "server", std::slice::from_ref(&update));
        realtime::publish(&mut *connection, &notice).await?;
        at += 1;
    }
    sqlx::query!(
        "UPDATE strategy_live_docs
         SET version = $2, text = $3, format = $4, saved_version = $5, saved_live_version = $2,
             snapshot = $3, snapshot_version = $2, updated_at = now() AT TIME ZONE 'utc'
         WHERE strategy_id = $1",
        id.0,
        version_value(at),
        text,
        notation.as_str(),
        version
    )
    .execute(&mut *connection)
    .await?;
    Ok(Some(at))
}

/// Inside a save's transaction: records that strategy version `version` was saved from live
/// version `live` (the live text stays as it is: others may have typed since).
pub async fn saved_from(
    connection: &mut PgConnection,
    id: StrategyId,
    version: i32,
    live: u64,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE strategy_live_docs SET saved_version = $2, saved_live_version = $3
         WHERE strategy_id = $1",
        id.0,
        version,
        version_value(live)
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// The text and notation of `user`'s live document at version `at`, rebuilt from the snapshot
/// and the log; `None` when `at` is older than the snapshot or newer than the document.
#[tracing::instrument(skip_all)]
pub async fn text_at(
    pool: &PgPool,
    user: UserId,
    id: StrategyId,
    at: u64,
) -> Result<Option<(String, Notation)>, AppError> {
    let doc = sqlx::query!(
        "SELECT d.version, d.format, d.text, d.snapshot, d.snapshot_version
         FROM strategy_live_docs d JOIN strategies s ON s.id = d.strategy_id
         WHERE d.strategy_id = $1 AND s.user_id = $2",
        id.0,
        user.0
    )
    .fetch_optional(pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let current = version_of(doc.version);
    if at == current {
        return Ok(Some((doc.text, notation_of(&doc.format))));
    }
    let since = version_of(doc.snapshot_version);
    if at > current || at < since {
        return Ok(None);
    }
    let rows = sqlx::query!(
        "SELECT changes, format FROM strategy_live_updates
         WHERE strategy_id = $1 AND version > $2 AND version <= $3 ORDER BY version",
        id.0,
        doc.snapshot_version,
        version_value(at)
    )
    .fetch_all(pool)
    .await?;
    let mut text = doc.snapshot;
    // The notation at the snapshot is not kept; the last switch before `at` decides, else the
    // document's own.
    let mut notation = notation_of(&doc.format);
    for row in rows {
        let changes = ChangeSet::from_json(&row.changes)
            .map_err(|error| AppError::internal(format!("a stored live update: {error}")))?;
        text = changes
            .apply(&text)
            .map_err(|error| AppError::internal(format!("a stored live update: {error}")))?;
        if let Some(format) = row.format.as_deref() {
            notation = notation_of(format);
        }
    }
    Ok(Some((text, notation)))
}

/// Forgets updates older than the retention window, keeping the last `KEPT_UPDATES` of each
/// document and everything after its snapshot.
#[tracing::instrument(skip_all)]
pub async fn prune(pool: &PgPool) -> Result<u64, AppError> {
    let deleted = sqlx::query!(
        "DELETE FROM strategy_live_updates u
         USING strategy_live_docs d
         WHERE u.strategy_id = d.strategy_id
           AND u.version <= d.snapshot_version
           AND u.version <= d.version - $1
           AND u.inserted_at < now() AT TIME ZONE 'utc' - make_interval(days => $2)",
        KEPT_UPDATES,
        RETENTION_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted)
}
