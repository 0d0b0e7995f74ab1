//! Comparing a strategy's texts line by line: the rows of a side-by-side diff, and the
//! three-way merge of the version an editor started from (base), what this editor typed
//! (mine) and what was saved elsewhere since (theirs). Changes that do not overlap are
//! combined by themselves; each overlapping one is left to the trader (theirs, mine or an
//! edit). Pure, so the browser merges without a round trip.

use similar::{capture_diff_slices, Algorithm, ChangeTag, DiffOp, TextDiff};

use super::{DiffRow, LineChange};

/// The lines of two texts aligned for a side-by-side view.
pub fn diff_rows(before: &str, after: &str) -> Vec<DiffRow> {
    rows_of(&TextDiff::from_lines(before, after))
}

/// [`diff_rows`] on the server, given up at `deadline`: two long texts with no line in common
/// would otherwise keep a thread busy for minutes. `None` when the texts are too different to
/// compare line by line within it.
#[cfg(feature = "ssr")]
pub fn diff_rows_until(
    before: &str,
    after: &str,
    deadline: std::time::Instant,
) -> Option<Vec<DiffRow>> {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .deadline(deadline)
        .diff_lines(before, after);
    // Past the deadline the diff is a rough one (whole stretches removed and added).
    if std::time::Instant::now() >= deadline {
        return None;
    }
    Some(rows_of(&diff))
}

/// Every line of `before` removed and every line of `after` added: what a diff shows of two
/// texts too different to compare line by line.
pub fn whole_replacement(before: &str, after: &str) -> Vec<DiffRow> {
    let row = |change, index: usize, line: &str| DiffRow {
        change,
        old_number: (change == LineChange::Removed).then_some(index as u32 + 1),
        new_number: (change == LineChange::Added).then_some(index as u32 + 1),
        text: line.trim_end_matches(['\n', '\r']).to_string(),
    };
    let removed = before
        .split_inclusive('\n')
        .enumerate()
        .map(|(index, line)| row(LineChange::Removed, index, line));
    let added = after
        .split_inclusive('\n')
        .enumerate()
        .map(|(index, line)| row(LineChange::Added, index, line));
    removed.chain(added).collect()
}

fn rows_of<'text>(diff: &TextDiff<'text, 'text, 'text, str>) -> Vec<DiffRow> {
    diff.iter_all_changes()
        .map(|change| DiffRow {
            change: match change.tag() {
                ChangeTag::Equal => LineChange::Same,
                ChangeTag::Delete => LineChange::Removed,
                ChangeTag::Insert => LineChange::Added,
            },
            old_number: change.old_index().map(|i| i as u32 + 1),
            new_number: change.new_index().map(|i| i as u32 + 1),
            text: change.value().trim_end_matches(['\n', '\r']).to_string(),
        })
        .collect()
}

/// What merging gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Every change of both sides, combined.
    Clean(String),
    /// Both sides changed the same lines in `places` places; nothing was combined.
    Overlapping { places: usize },
}

/// Lines that both sides changed, differently: the trader decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub base: String,
    pub mine: String,
    pub theirs: String,
}

/// A stretch of the merged text: settled (unchanged, or changed by one side or identically
/// by both), or an overlap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeChunk {
    Settled(String),
    Overlap(Overlap),
}

/// For each line of `base`, the line of `other` it was kept as, if it was kept.
fn kept_lines(base: &[&str], other: &[&str]) -> Vec<Option<usize>> {
    let mut kept = vec![None; base.len()];
    for op in capture_diff_slices(Algorithm::Myers, base, other) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for offset in 0..len {
                kept[old_index + offset] = Some(new_index + offset);
            }
        }
    }
    kept
}

/// The three texts cut into chunks (diff3): runs of base lines that both sides kept in place
/// are settled; between two such runs, whatever only one side changed is taken from it, and
/// what both changed differently is an overlap.
pub fn merge_chunks(base: &str, mine: &str, theirs: &str) -> Vec<MergeChunk> {
    let base: Vec<&str> = base.split_inclusive('\n').collect();
    let mine: Vec<&str> = mine.split_inclusive('\n').collect();
    let theirs: Vec<&str> = theirs.split_inclusive('\n').collect();
    let in_mine = kept_lines(&base, &mine);
    let in_theirs = kept_lines(&base, &theirs);
    fn settle(chunks: &mut Vec<MergeChunk>, text: String) {
        if text.is_empty() {
            return;
        }
        match chunks.last_mut() {
            Some(MergeChunk::Settled(last)) => last.push_str(&text),
            _ => chunks.push(MergeChunk::Settled(text)),
        }
    }
    let mut chunks: Vec<MergeChunk> = Vec::new();
    let (mut b, mut m, mut t) = (0, 0, 0);
    loop {
        let mut kept = String::new();
        while b < base.len() && in_mine[b] == Some(m) && in_theirs[b] == Some(t) {
            kept.push_str(base[b]);
            (b, m, t) = (b + 1, m + 1, t + 1);
        }
        settle(&mut chunks, kept);
        if b == base.len() && m == mine.len() && t == theirs.len() {
            return chunks;
        }
        // The next base line both sides kept ends this unstable stretch.
        let (next_b, next_m, next_t) = (b..base.len())
            .find_map(|at| Some((at, in_mine[at]?, in_theirs[at]?)))
            .unwrap_or((base.len(), mine.len(), theirs.len()));
        let [base_part, mine_part, theirs_part] = [
            base[b..next_b].concat(),
            mine[m..next_m].concat(),
            theirs[t..next_t].concat(),
        ];
        if mine_part == base_part || mine_part == theirs_part {
            settle(&mut chunks, theirs_part);
        } else if theirs_part == base_part {
            settle(&mut chunks, mine_part);
        } else {
            chunks.push(MergeChunk::Overlap(Overlap {
                base: base_part,
                mine: mine_part,
                theirs: theirs_part,
            }));
        }
        (b, m, t) = (next_b, next_m, next_t);
    }
}

/// How many overlaps the chunks leave to the trader.
pub fn overlaps(chunks: &[MergeChunk]) -> usize {
    chunks
        .iter()
        .filter(|chunk| matches!(chunk, MergeChunk::Overlap(_)))
        .count()
}

/// The merged text: the settled chunks, and for the n-th overlap `resolved(n, overlap)`.
pub fn assemble(
    chunks: &[MergeChunk],
    mut resolved: impl FnMut(usize, &Overlap) -> String,
) -> String {
    let mut overlap_number = 0;
    let mut text = String::new();
    for chunk in chunks {
        match chunk {
            MergeChunk::Settled(settled) => text.push_str(settled),
            MergeChunk::Overlap(overlap) => {
                let mut lines = resolved(overlap_number, overlap);
                overlap_number += 1;
                // A hand edit without its last line break must not glue itself to what follows.
                let ends_a_line = overlap.mine.ends_with('\n') || overlap.theirs.ends_with('\n');
                if !lines.is_empty() && !lines.ends_with('\n') && ends_a_line {
                    lines.push('\n');
                }
                text.push_str(&lines);
            }
        }
    }
    text
}

pub fn merge_texts(base: &str, mine: &str, theirs: &str) -> Merged {
    let chunks = merge_chunks(base, mine, theirs);
    match overlaps(&chunks) {
        0 => Merged::Clean(assemble(&chunks, |_, _| String::new())),
        places => Merged::Overlapping { places },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lines(count: usize) -> Vec<String> {
        (0..count).map(|n| format!("line {n}: value {n}")).collect()
    }

    fn text(lines: &[String]) -> String {
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    #[test]
    fn changes_to_different_lines_are_combined() {
        let base = text(&lines(6));
        let mine = base.replace("value 1\n", "value one\n");
        let theirs = base.replace("value 4\n", "value four\n");
        let Merged::Clean(merged) = merge_texts(&base, &mine, &theirs) else {
            panic!("not clean")
        };
        assert!(
            merged.contains("value one") && merged.contains("value four"),
            "{merged}"
        );
    }

    #[test]
    fn changes_to_the_same_line_are_left_to_the_trader() {
        let base = text(&lines(4));
        let mine = base.replace("value 2\n", "mine\n");
        let theirs = base.replace("value 2\n", "theirs\n");
        assert_eq!(
            merge_texts(&base, &mine, &theirs),
            Merged::Overlapping { places: 1 }
        );
    }

    #[test]
    fn each_overlap_is_resolved_by_its_own_choice_and_the_rest_merges_by_itself() {
        let base = text(&lines(12));
        let mine = base
            .replace("value 1\n", "mine 1\n")
            .replace("value 6\n", "mine 6\n")
            .replace("value 10\n", "mine only 10\n");
        let theirs = base
            .replace("value 1\n", "theirs 1\n")
            .replace("value 6\n", "theirs 6\n")
            .replace("value 3\n", "theirs only 3\n");
        let chunks = merge_chunks(&base, &mine, &theirs);
        assert_eq!(overlaps(&chunks), 2);
        let overlap = chunks
            .iter()
            .find_map(|chunk| match chunk {
                MergeChunk::Overlap(overlap) => Some(overlap.clone()),
                MergeChunk::Settled(_) => None,
            })
            .unwrap();
        assert_eq!(overlap.base, "line 1: value 1\n");
        assert_eq!(overlap.mine, "line 1: mine 1\n");
        assert_eq!(overlap.theirs, "line 1: theirs 1\n");
        let merged = assemble(&chunks, |n, overlap| match n {
            0 => overlap.mine.clone(),
            _ => "by hand".into(),
        });
        let expected = base
            .replace("value 1\n", "mine 1\n")
            .replace("line 6: value 6\n", "by hand\n")
            .replace("value 10\n", "mine only 10\n")
            .replace("value 3\n", "theirs only 3\n");
        assert_eq!(merged, expected);
        assert_eq!(
            merge_texts(&base, &mine, &theirs),
            Merged::Overlapping { places: 2 }
        );
    }

    #[test]
    fn a_diff_aligns_kept_removed_and_added_lines() {
        let rows = diff_rows("a\nb\nc\n", "a\nB\nc\n");
        let kinds: Vec<_> = rows.iter().map(|r| (r.change, r.text.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (LineChange::Same, "a"),
                (LineChange::Removed, "b"),
                (LineChange::Added, "B"),
                (LineChange::Same, "c"),
            ]
        );
        assert_eq!(rows[2].new_number, Some(2));
        assert_eq!(rows[1].old_number, Some(2));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_diff_past_its_deadline_says_the_texts_are_too_different() {
        let before: String = (0..140_000).map(|n| format!("a{n}\n")).collect();
        let after: String = (0..140_000).map(|n| format!("b{n}\n")).collect();
        let soon = std::time::Instant::now() + std::time::Duration::from_millis(50);
        assert_eq!(super::diff_rows_until(&before, &after, soon), None);
        let later = std::time::Instant::now() + std::time::Duration::from_secs(60);
        assert_eq!(
            super::diff_rows_until("a\nb\n", "a\nc\n", later).map(|rows| rows.len()),
            Some(3)
        );
    }

    #[test]
    fn lines_added_at_the_end_by_one_side_are_kept() {
        let base = "a\nb\n";
        let merged = merge_texts(base, "a\nb\nmine\n", "A\nb\n");
        assert_eq!(merged, Merged::Clean("A\nb\nmine\n".into()));
    }

    proptest! {
        #[test]
        fn merging_a_change_with_itself_or_with_no_change_gives_that_change(
            count in 3usize..30, at in 0usize..30, new in "[a-z ]{1,12}"
        ) {
            let base_lines = lines(count);
            let mut changed = base_lines.clone();
            changed[at % count] = new;
            let (base, change) = (text(&base_lines), text(&changed));
            prop_assert_eq!(merge_texts(&base, &change, &change), Merged::Clean(change.clone()));
            prop_assert_eq!(merge_texts(&base, &change, &base), Merged::Clean(change.clone()));
            prop_assert_eq!(merge_texts(&base, &base, &change), Merged::Clean(change));
        }

        #[test]
        fn edits_two_lines_apart_always_merge_and_no_kept_line_is_dropped(
            count in 5usize..40, first in 0usize..40, gap in 2usize..10
        ) {
            let base_lines = lines(count);
            let mine_at = first % count;
            let theirs_at = mine_at + gap;
            prop_assume!(theirs_at < count);
            let mut mine = base_lines.clone();
            mine[mine_at] = "changed by me".into();
            let mut theirs = base_lines.clone();
            theirs[theirs_at] = "changed by them".into();
            let merged = merge_texts(&text(&base_lines), &text(&mine), &text(&theirs));
            let Merged::Clean(merged) = merged else {
                return Err(TestCaseError::fail("edits apart overlapped"));
            };
            prop_assert!(merged.contains("changed by me") && merged.contains("changed by them"));
            for (index, line) in base_lines.iter().enumerate() {
                if index != mine_at && index != theirs_at {
                    prop_assert!(merged.contains(line.as_str()), "dropped {}", line);
                }
            }
        }

        #[test]
        fn whatever_is_chosen_for_the_overlaps_no_line_both_sides_kept_is_dropped(
            count in 3usize..30,
            mine_edits in proptest::collection::vec((0usize..30, "[a-z]{1,6}"), 0..4),
            theirs_edits in proptest::collection::vec((0usize..30, "[A-Z]{1,6}"), 0..4),
            take_mine in any::<bool>(),
        ) {
            let base_lines = lines(count);
            let mut mine = base_lines.clone();
            for (at, new) in &mine_edits {
                mine[at % count] = new.clone();
            }
            let mut theirs = base_lines.clone();
            for (at, new) in &theirs_edits {
                theirs[at % count] = new.clone();
            }
            let chunks = merge_chunks(&text(&base_lines), &text(&mine), &text(&theirs));
            let merged = assemble(&chunks, |_, overlap| {
                if take_mine { overlap.mine.clone() } else { overlap.theirs.clone() }
            });
            for (index, line) in base_lines.iter().enumerate() {
                if mine[index] == *line && theirs[index] == *line {
                    prop_assert!(merged.contains(&format!("{line}\n")), "dropped {}", line);
                }
            }
        }
    }
}
