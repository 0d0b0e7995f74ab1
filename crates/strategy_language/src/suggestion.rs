//! "Did you mean" suggestions: the closest valid name by edit distance.

/// The candidate closest to `typed`, when it is close enough to be a plausible typo
/// (a third of the longer name, at least one edit; case differences count half).
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Nobody mistypes a hundred characters; the bound keeps hostile input cheap.
    if typed.len() > 100 {
        return None;
    }
    // Every name of the language is ASCII; the ASCII case mapping also keeps Unicode's case
    // tables out of the editor's WASM.
    let typed_lower = typed.to_ascii_lowercase();
    let mut best: Option<(&'a str, usize)> = None;
    for candidate in candidates {
        if candidate == typed || candidate.len() > 100 {
            continue;
        }
        let distance = if candidate.to_ascii_lowercase() == typed_lower {
            0
        } else {
            edit_distance(&typed_lower, &candidate.to_ascii_lowercase())
        };
        let longest = typed.chars().count().max(candidate.chars().count());
        let allowed = (longest / 3).max(1);
        if distance <= allowed && best.is_none_or(|(_, best_distance)| distance < best_distance) {
            best = Some((candidate, distance));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// " did you mean `x`?" or nothing, to append to a message.
pub fn did_you_mean<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(typed, candidates).map_or_else(String::new, |name| format!("; did you mean `{name}`?"))
}

/// The message about a name that is not known: `problem`, then "did you mean" when a
/// candidate is close, or else `otherwise` (what the valid names are). Every "unknown ..."
/// message is made here, so they all read alike.
pub fn unknown_name<'a>(
    problem: &str,
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: &str,
) -> String {
    let suggestion = did_you_mean(typed, candidates);
    if suggestion.is_empty() {
        format!("{problem}; {otherwise}")
    } else {
        format!("{problem}{suggestion}")
    }
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
pub fn edit_distance(left: &str, right: &str) -> usize {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    let width = right.len() + 1;
    let mut rows = vec![0usize; (left.len() + 1) * width];
    for (column, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = column;
    }
    for row in 0..=left.len() {
        rows[row * width] = row;
    }
    for row in 1..=left.len() {
        for column in 1..=right.len() {
            let substitution = usize::from(left[row - 1] != right[column - 1]);
            let mut best = (rows[(row - 1) * width + column] + 1)
                .min(rows[row * width + column - 1] + 1)
                .min(rows[(row - 1) * width + column - 1] + substitution);
            if row > 1
                && column > 1
                && left[row - 1] == right[column - 2]
                && left[row - 2] == right[column - 1]
            {
                best = best.min(rows[(row - 2) * width + column - 2] + 1);
            }
            rows[row * width + column] = best;
        }
    }
    rows[left.len() * width + right.len()]
}
