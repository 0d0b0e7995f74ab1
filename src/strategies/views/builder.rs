//! The visual builder beside the text: indicators picked from the registry with their
//! parameters (range, default and help shown), conditions composed from operands, operators
//! and AND/OR, and the sizing and risk values. It reads the strategy as last validated and
//! changes the document only through the language's edit API, so comments and formatting
//! elsewhere survive and each change is one step of the editor's undo history.

use leptos::prelude::*;

use crate::language::{
    condition_clauses,
    indicators::{indicator_spec, ParameterKind, ParameterSpec, INDICATORS},
    model::{Indicator, ParameterValue, PositionVariable, PriceField},
    ConditionField, Connective, Edit, EditValue, Strategy,
};

/// A number input's step for a parameter: whole numbers step by one.
fn step(kind: &ParameterKind) -> &'static str {
    match kind {
        ParameterKind::Integer { .. } => "1",
        _ => "any",
    }
}

fn value_text(value: Option<&ParameterValue>, spec: &ParameterSpec) -> String {
    match value.cloned().unwrap_or_else(|| spec.kind.default_value()) {
        ParameterValue::Number(number) => format!("{number}"),
        ParameterValue::Source(source) => source.to_string(),
        ParameterValue::Choice(choice) => choice,
    }
}

/// Everything a condition can name: the document's indicators (each output of a
/// multi-output one), price series, and in exit and stop conditions the position variables.
fn operands(strategy: &Strategy, field: ConditionField) -> Vec<String> {
    let mut names = Vec::new();
    for indicator in &strategy.indicators {
        match indicator_spec(&indicator.indicator_type) {
            Some(spec) if spec.is_multi_output() => names.extend(
                spec.outputs
                    .iter()
                    .map(|output| format!("{}.{}", indicator.name, output.name)),
            ),
            _ => names.push(indicator.name.clone()),
        }
    }
    names.extend(PriceField::ALL.iter().map(|field| field.name().to_string()));
    if field != ConditionField::Entry {
        names.extend(PositionVariable::ALL.iter().map(|v| v.name().to_string()));
    }
    names
}

/// A name for a new indicator of `type_name` that the document does not use yet.
fn fresh_name(strategy: &Strategy, type_name: &str) -> String {
    let period = indicator_spec(type_name)
        .and_then(|spec| spec.parameter("period"))
        .and_then(|parameter| match parameter.kind.default_value() {
            ParameterValue::Number(number) => Some(number as i64),
            _ => None,
        });
    let base = match period {
        Some(period) => format!("{type_name}_{period}"),
        None => type_name.to_string(),
    };
    (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}_{n}")
            }
        })
        .find(|name| strategy.indicator(name).is_none())
        .expect("a free name")
}

/// A clause being composed. It lives as long as the builder, not as long as one rendering of
/// it, so a check reply that redraws the builder does not drop what the user picked.
#[derive(Clone, Copy)]
struct ClauseDraft {
    left: RwSignal<String>,
    operator: RwSignal<String>,
    right: RwSignal<String>,
    join: RwSignal<Connective>,
}

impl ClauseDraft {
    fn new() -> Self {
        ClauseDraft {
            left: RwSignal::new(String::new()),
            operator: RwSignal::new("<".into()),
            right: RwSignal::new(String::new()),
            join: RwSignal::new(Connective::And),
        }
    }
}

/// The builder, its code loaded the first time its tab opens.
#[lazy]
pub fn builder_panel(
    strategy: Signal<Option<Strategy>>,
    apply: Callback<Edit>,
    read_only: bool,
) -> AnyView {
    view! { <Builder strategy apply read_only /> }.into_any()
}

#[component]
pub fn Builder(
    strategy: Signal<Option<Strategy>>,
    apply: Callback<Edit>,
    read_only: bool,
) -> impl IntoView {
    let drafts = [ClauseDraft::new(), ClauseDraft::new(), ClauseDraft::new()];
    view! {
        <section class="builder" aria-labelledby="builder-heading">
            <h2 id="builder-heading">"Builder"</h2>
            <noscript><p class="hint">"The builder needs JavaScript; edit the text instead."</p></noscript>
            {move || match strategy.get() {
                None => view! { <p class="hint">"The builder shows the strategy once the document can be read."</p> }.into_any(),
                Some(strategy) => view! {
                    <fieldset class="builder-body" disabled=read_only>
                        <IndicatorsBuilder strategy=strategy.clone() apply />
                        {[ConditionField::Entry, ConditionField::Exit, ConditionField::Stop]
                            .into_iter()
                            .zip(drafts)
                            .map(|(field, draft)| view! { <ConditionBuilder strategy=strategy.clone() field draft apply /> })
                            .collect_view()}
                        <ValuesBuilder strategy apply />
                    </fieldset>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn IndicatorsBuilder(strategy: Strategy, apply: Callback<Edit>) -> impl IntoView {
    let new_type = RwSignal::new(INDICATORS[0].type_name.to_string());
    let for_name = strategy.clone();
    let add = move |_| {
        let indicator_type = new_type.get_untracked();
        let name = fresh_name(&for_name, &indicator_type);
        apply.run(Edit::AddIndicator {
            indicator_type,
            name,
            parameters: vec![],
        });
    };
    let sources: Vec<String> = PriceField::ALL
        .iter()
        .map(|f| f.name().to_string())
        .chain(strategy.indicators.iter().map(|i| i.name.clone()))
        .collect();
    view! {
        <div class="builder-group">
            <h3>"Indicators"</h3>
            {strategy.indicators.iter().enumerate().map(|(index, indicator)| view! {
                <IndicatorCard indicator=indicator.clone() index count=strategy.indicators.len() sources=sources.clone() apply />
            }).collect_view()}
            <div class="builder-add">
                <label>
                    "New indicator "
                    <select on:change=move |event| new_type.set(event_target_value(&event))>
                        {INDICATORS.iter().map(|spec| view! {
                            <option value=spec.type_name title=spec.help>{format!("{} ({})", spec.title, spec.type_name)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="button" on:click=add>"Add indicator"</button>
            </div>
        </div>
    }
}

#[component]
fn IndicatorCard(
    indicator: Indicator,
    index: usize,
    count: usize,
    sources: Vec<String>,
    apply: Callback<Edit>,
) -> impl IntoView {
    let spec = indicator_spec(&indicator.indicator_type);
    let name = indicator.name.clone();
    let remove_name = name.clone();
    view! {
        <fieldset class="builder-indicator">
            <legend>
                <code>{name.clone()}</code>
                " "
                {spec.map(|spec| spec.title)}
            </legend>
            {spec.map(|spec| spec.parameters.iter().map(|parameter| {
                let current = value_text(indicator.parameters.get(parameter.name), parameter);
                let (indicator_name, parameter_name) = (name.clone(), parameter.name.to_string());
                let set = move |text: String| {
                    let value = text.trim().parse::<f64>().map_or_else(|_| EditValue::Text(text.clone()), EditValue::Number);
                    apply.run(Edit::SetParameter { indicator: indicator_name.clone(), parameter: parameter_name.clone(), value });
                };
                let label = format!("{} of {}", parameter.name, name);
                let hint = parameter.kind.describe_default_and_range();
                let input = match &parameter.kind {
                    ParameterKind::Source => view! {
                        <select aria-label=label on:change=move |event| set(event_target_value(&event))>
                            {sources.iter().filter(|s| **s != name).map(|source| view! {
                                <option value=source.clone() selected=*source == current>{source.clone()}</option>
                            }).collect_view()}
                        </select>
                    }.into_any(),
                    ParameterKind::Choice { choices, .. } => view! {
                        <select aria-label=label on:change=move |event| set(event_target_value(&event))>
                            {choices.iter().map(|choice| view! {
                                <option value=*choice selected=*choice == current>{*choice}</option>
                            }).collect_view()}
                        </select>
                    }.into_any(),
                    kind => view! {
                        <input type="number" step=step(kind) value=current aria-label=label
                            on:change=move |event| set(event_target_value(&event)) />
                    }.into_any(),
                };
                view! {
                    <div class="builder-parameter" title=parameter.help>
                        <span class="parameter-name">{parameter.name}</span>
                        {input}
                        <small class="hint">{hint}</small>
                    </div>
                }
            }).collect_view())}
            <div class="indicator-actions">
                {(index > 0).then(|| {
                    let name = indicator.name.clone();
                    view! {
                        <button type="button" class="link-button" aria-label=format!("Move up {name}")
                            on:click=move |_| apply.run(Edit::MoveIndicator { name: name.clone(), to: index - 1 })>"Move up"</button>
                    }
                })}
                {(index + 1 < count).then(|| {
                    let name = indicator.name.clone();
                    view! {
                        <button type="button" class="link-button" aria-label=format!("Move down {name}")
                            on:click=move |_| apply.run(Edit::MoveIndicator { name: name.clone(), to: index + 1 })>"Move down"</button>
                    }
                })}
                <button type="button" class="link-button" on:click=move |_| apply.run(Edit::RemoveIndicator { name: remove_name.clone() })>
                    {format!("Remove {}", indicator.name)}
                </button>
            </div>
        </fieldset>
    }
}

const OPERATORS: [(&str, &str); 8] = [
    ("<", "is below"),
    ("<=", "is at most"),
    (">", "is above"),
    (">=", "is at least"),
    ("==", "equals"),
    ("!=", "differs from"),
    ("crosses_above", "crosses above"),
    ("crosses_below", "crosses below"),
];

fn clause(left: &str, operator: &str, right: &str) -> String {
    match operator {
        "crosses_above" | "crosses_below" => format!("{operator}({left}, {right})"),
        _ => format!("{left} {operator} {right}"),
    }
}

#[component]
fn ConditionBuilder(
    strategy: Strategy,
    field: ConditionField,
    draft: ClauseDraft,
    apply: Callback<Edit>,
) -> impl IntoView {
    let (title, hint) = match field {
        ConditionField::Entry => ("Entry", "Buy when this is true at a bar's close."),
        ConditionField::Exit => ("Exit", "Sell when this is true at a bar's close."),
        ConditionField::Stop => ("Stops", "Get out early when this is true (optional)."),
    };
    let condition = match field {
        ConditionField::Entry => strategy.entry_conditions.clone(),
        ConditionField::Exit => strategy.exit_conditions.clone(),
        ConditionField::Stop => strategy.stop_conditions.clone(),
    };
    let (connective, clauses) = condition
        .as_ref()
        .map(|condition| condition_clauses(&condition.expression))
        .unwrap_or((None, vec![]));
    let names = operands(&strategy, field);
    let ClauseDraft {
        left,
        operator,
        right,
        join,
    } = draft;
    if !names.contains(&left.get_untracked()) {
        left.set(names.first().cloned().unwrap_or_default());
    }
    let add = move |_| {
        let right_text = right.get_untracked();
        if right_text.trim().is_empty() {
            return;
        }
        apply.run(Edit::AddClause {
            condition: field,
            connective: join.get_untracked(),
            clause: clause(
                &left.get_untracked(),
                &operator.get_untracked(),
                right_text.trim(),
            ),
        });
        right.set(String::new());
    };
    let list_id = format!("operands-{}", field.key());
    let joined_by = match connective {
        Some(Connective::Or) => "any of",
        _ => "all of",
    };
    let count = clauses.len();
    view! {
        <div class="builder-group">
            <h3>{title}</h3>
            <p class="hint">{hint}</p>
            {(count > 1).then(|| view! { <p class="hint">{format!("True when {joined_by} these hold:")}</p> })}
            <ul class="builder-clauses" aria-label=format!("{title} clauses")>
                {clauses.into_iter().enumerate().map(|(index, text)| view! {
                    <li>
                        <code>{text.clone()}</code>
                        {(count > 1).then(|| view! {
                            <button type="button" class="link-button" aria-label=format!("Remove {text} from {title}")
                                on:click=move |_| apply.run(Edit::RemoveClause { condition: field, index })>"Remove"</button>
                        })}
                    </li>
                }).collect_view()}
            </ul>
            <div class="builder-add clause-form">
                <select aria-label=format!("Join the new {title} clause with") on:change=move |event| {
                    join.set(if event_target_value(&event) == "or" { Connective::Or } else { Connective::And })
                }>
                    <option value="and" selected=join.get_untracked() == Connective::And>"AND"</option>
                    <option value="or" selected=join.get_untracked() == Connective::Or>"OR"</option>
                </select>
                <select aria-label=format!("{title} clause: left operand") on:change=move |event| left.set(event_target_value(&event))>
                    {names.iter().map(|name| view! {
                        <option value=name.clone() selected=*name == left.get_untracked()>{name.clone()}</option>
                    }).collect_view()}
                </select>
                <select aria-label=format!("{title} clause: comparison") on:change=move |event| operator.set(event_target_value(&event))>
                    {OPERATORS.iter().map(|(value, label)| view! {
                        <option value=*value selected=*value == operator.get_untracked()>{*label}</option>
                    }).collect_view()}
                </select>
                <input type="text" list=list_id.clone() placeholder="30 or a name" aria-label=format!("{title} clause: right operand")
                    prop:value=move || right.get() on:input=move |event| right.set(event_target_value(&event)) />
                <datalist id=list_id>
                    {names.iter().map(|name| view! { <option value=name.clone()></option> }).collect_view()}
                </datalist>
                <button type="button" on:click=add>{format!("Add to {title}")}</button>
            </div>
        </div>
    }
}

#[component]
fn ValuesBuilder(strategy: Strategy, apply: Callback<Edit>) -> impl IntoView {
    let mut fields: Vec<(String, f64)> = Vec::new();
    if let Some(sizing) = &strategy.position_sizing {
        fields.extend(
            sizing
                .amounts()
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (format!("position_sizing.{key}"), v))),
        );
    }
    if let Some(risk) = &strategy.risk_parameters {
        fields.extend(
            risk.fractions()
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| (format!("risk_parameters.{key}"), v))),
        );
    }
    view! {
        <div class="builder-group">
            <h3>"Sizing and risk"</h3>
            <p class="hint">"Fractions: 0.05 is 5%."</p>
            {fields.into_iter().map(|(path, value)| {
                let label = path.replace(['.', '_'], " ");
                let edited = path.clone();
                view! {
                    <label class="builder-parameter">
                        <span class="parameter-name">{label}</span>
                        <input type="number" step="any" value=value
                            on:change=move |event| {
                                if let Ok(number) = event_target_value(&event).trim().parse::<f64>() {
                                    apply.run(Edit::SetField { path: edited.clone(), value: EditValue::Number(number) });
                                }
                            } />
                    </label>
                }
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::{validate, Format};

    #[test]
    fn a_new_indicator_gets_a_name_the_document_does_not_use() {
        let text = crate::strategies::templates::TEMPLATES[2].text(Format::Yaml);
        let strategy = validate(text, Format::Yaml).strategy.unwrap();
        assert_eq!(fresh_name(&strategy, "sma"), "sma_20_2");
        assert_eq!(fresh_name(&strategy, "rsi"), "rsi_14");
        assert_eq!(fresh_name(&strategy, "obv"), "obv");
    }

    #[test]
    fn a_cross_is_written_as_a_function_and_a_comparison_as_an_operator() {
        assert_eq!(clause("rsi_14", "<", "30"), "rsi_14 < 30");
        assert_eq!(
            clause("ema_fast", "crosses_above", "sma_slow"),
            "crosses_above(ema_fast, sma_slow)"
        );
    }

    #[test]
    fn exit_conditions_may_name_the_position_but_entries_may_not() {
        let text = crate::strategies::templates::TEMPLATES[2].text(Format::Yaml);
        let strategy = validate(text, Format::Yaml).strategy.unwrap();
        assert!(!operands(&strategy, ConditionField::Entry).contains(&"bars_in_trade".to_string()));
        assert!(operands(&strategy, ConditionField::Exit).contains(&"bars_in_trade".to_string()));
        assert!(operands(&strategy, ConditionField::Entry).contains(&"sma_20".to_string()));
    }
}
