//! Three-way merge of a strategy's text, line by line: the version an editor started from
//! (base), what this editor typed (mine) and what was saved elsewhere since (theirs). Changes
//! that do not overlap are combined by themselves; overlapping ones are left to the trader.
//! Pure, so the browser merges without a round trip.

/// What merging gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Every change of both sides, combined.
    Clean(String),
    /// Both sides changed the same lines in `places` places; nothing was combined.
    Overlapping { places: usize },
}

pub fn merge_texts(base: &str, mine: &str, theirs: &str) -> Merged {
    match diffy::merge(base, mine, theirs) {
        Ok(merged) => Merged::Clean(merged),
        Err(marked) => Merged::Overlapping {
            places: marked
                .lines()
                .filter(|line| line.starts_with("<<<<<<<"))
                .count()
                .max(1),
        },
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
    }
}
