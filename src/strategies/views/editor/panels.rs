//! The side panel's checks: which section of the document each problem belongs to, and the
//! syntax test's report.

use leptos::prelude::*;

use crate::{
    language::{syntax_test::SyntaxReport, Diagnostic, Severity},
    strategies::views::details::condition_label,
};

/// What the side panel shows: the checks (sections, problems, syntax test) or the builder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SideTab {
    Checks,
    Builder,
}

/// The sections of a document that show a check when valid: (label, hint, the top-level
/// fields they cover). Basics covers every other field, and problems about the document as a
/// whole (a syntax error, an unknown field).
pub(super) const SECTIONS: [(&str, &str, &[&str]); 7] = [
    ("Basics", "name, pair, timeframe", &[]),
    (
        "Indicators",
        "what is computed from prices",
        &["indicators"],
    ),
    ("Entry", "when to buy", &["entry_conditions"]),
    ("Exit", "when to sell", &["exit_conditions"]),
    ("Stops", "when to get out early", &["stop_conditions"]),
    ("Sizing", "how much to buy", &["position_sizing"]),
    ("Risk", "limits on losses", &["risk_parameters"]),
];

/// The label of the section a diagnostic path belongs to.
fn section_of(path: &str) -> &'static str {
    let root = path.split(['.', '[']).next().unwrap_or("");
    SECTIONS
        .iter()
        .find(|(_, _, fields)| fields.contains(&root))
        .map_or(SECTIONS[0].0, |(label, _, _)| label)
}

/// The problems (not notes) in the section labelled `section`.
pub(super) fn problems_in(diagnostics: &[Diagnostic], section: &str) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info && section_of(&d.path) == section)
        .count()
}

#[component]
pub(super) fn SyntaxPanel(report: SyntaxReport) -> impl IntoView {
    let warnings: Vec<Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .cloned()
        .collect();
    view! {
        <section class="syntax-report" aria-labelledby="syntax-heading">
            <h2 id="syntax-heading">"Syntax test"</h2>
            {match report.summary {
                Some(summary) => view! {
                    <p>{format!("{} on {} {}; {} bars of warm-up.", summary.name, summary.trading_pair, summary.timeframe.unwrap_or_default(), summary.warm_up_bars)}</p>
                    <ul>
                        {summary.indicators.into_iter().map(|i| view! { <li><code>{i.name}</code>{format!(" {} ({})", i.title, i.parameters.join(", "))}</li> }).collect_view()}
                    </ul>
                    <dl>
                        {summary.conditions.into_iter().map(|c| view! { <dt>{condition_label(&c.field)}</dt><dd><code>{c.canonical}</code></dd> }).collect_view()}
                    </dl>
                }.into_any(),
                None => view! { <p>"The document cannot be read as a strategy yet."</p> }.into_any(),
            }}
            {if warnings.is_empty() {
                view! { <p class="all-clear">"No logic problems found."</p> }.into_any()
            } else {
                view! {
                    <ul class="logic-warnings">
                        {warnings.into_iter().map(|d| view! { <li>{format!("{}:{} {}", d.span.line, d.span.column, d.message)}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        language::{validate, Format},
        strategies::templates::TEMPLATES,
    };

    fn basics(text: &str) -> usize {
        problems_in(&validate(text, Format::Yaml).diagnostics, "Basics")
    }

    #[test]
    fn a_problem_outside_every_section_counts_under_basics() {
        let template = TEMPLATES[0].text(Format::Yaml);
        assert_eq!(basics(template), 0);
        let misspelt = format!("{template}entry_condition: \"close > 1\"\n");
        assert_eq!(basics(&misspelt), 1);
        let indicators = problems_in(&validate(&misspelt, Format::Yaml).diagnostics, "Indicators");
        assert_eq!(indicators, 0);
    }
}
