//! Properties of the strategy language engine, over generated inputs: what the printers write
//! reads back as the same model, and no input, however broken, makes the engine panic.

use proptest::prelude::*;

use trading_strategy::language::expression::{
    parse_condition, print_expression, BinaryOp, Expr, ExprKind, UnaryOp,
};
use trading_strategy::language::indicators::{ParameterKind, INDICATORS};
use trading_strategy::language::model::{
    Condition, Format, Indicator, ParameterValue, PositionSizing, PositionVariable, PriceField,
    RiskParameters, SizingType, Span, Strategy as StrategyModel, Timeframe,
};
use trading_strategy::language::syntax_test::syntax_test_of;
use trading_strategy::language::{
    apply_edit, validate, write_document, ConditionField, Connective, Edit, EditValue,
};

fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    node(ExprKind::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    })
}

/// Names a generated condition may use: single-output indicators and `name.output`s.
#[derive(Clone, Debug)]
struct References {
    indicators: Vec<(String, Option<String>)>,
    position_variables: bool,
}

fn number_literal() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..200).prop_map(f64::from),
        (-1000i32..1000).prop_map(|value| f64::from(value) / 100.0),
        Just(1e6),
        Just(-0.05),
    ]
}

fn reference(references: References) -> BoxedStrategy<Expr> {
    let prices = proptest::sample::select(PriceField::ALL.to_vec())
        .prop_map(|field| node(ExprKind::Price { field }));
    let mut options: Vec<BoxedStrategy<Expr>> = vec![prices.boxed()];
    if !references.indicators.is_empty() {
        options.push(
            proptest::sample::select(references.indicators.clone())
                .prop_map(|(name, output)| node(ExprKind::Indicator { name, output }))
                .boxed(),
        );
    }
    if references.position_variables {
        options.push(
            proptest::sample::select(PositionVariable::ALL.to_vec())
                .prop_map(|variable| node(ExprKind::Position { variable }))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn numeric(references: References) -> BoxedStrategy<Expr> {
    let lookback_target = reference(References {
        position_variables: false,
        ..references.clone()
    });
    let leaf = prop_oneof![
        3 => reference(references.clone()),
        2 => number_literal().prop_map(|value| node(ExprKind::Number { value })),
        1 => (lookback_target, 0u32..=1000).prop_map(|(term, bars)| node(ExprKind::Lookback { term: Box::new(term), bars })),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                proptest::sample::select(vec![
                    BinaryOp::Add,
                    BinaryOp::Subtract,
                    BinaryOp::Multiply,
                    BinaryOp::Divide
                ]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, lhs, rhs)| binary(op, lhs, rhs)),
            inner
                .clone()
                .prop_filter("minus on a literal is a literal", |operand| !matches!(
                    operand.kind,
                    ExprKind::Number { .. }
                ))
                .prop_map(|operand| node(ExprKind::Unary {
                    op: UnaryOp::Negate,
                    operand: Box::new(operand)
                })),
            inner.clone().prop_map(|x| node(ExprKind::Call {
                function: "abs".to_string(),
                args: vec![x]
            })),
            (
                proptest::sample::select(vec!["min", "max"]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(function, a, b)| node(ExprKind::Call {
                    function: function.to_string(),
                    args: vec![a, b]
                })),
            (
                proptest::sample::select(vec!["highest", "lowest"]),
                inner,
                1u32..=1000
            )
                .prop_map(|(function, x, window)| node(ExprKind::Call {
                    function: function.to_string(),
                    args: vec![
                        x,
                        node(ExprKind::Number {
                            value: f64::from(window)
                        })
                    ]
                })),
        ]
    })
    .boxed()
}

fn comparison_operator() -> impl Strategy<Value = BinaryOp> {
    proptest::sample::select(vec![
        BinaryOp::Less,
        BinaryOp::LessOrEqual,
        BinaryOp::Greater,
        BinaryOp::GreaterOrEqual,
        BinaryOp::Equal,
        BinaryOp::NotEqual,
    ])
}

fn boolean(references: References) -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        4 => (comparison_operator(), numeric(references.clone()), numeric(references.clone()))
            .prop_map(|(op, lhs, rhs)| binary(op, lhs, rhs)),
        1 => (proptest::sample::select(vec!["crosses_above", "crosses_below"]), numeric(references.clone()), numeric(references))
            .prop_map(|(function, a, b)| node(ExprKind::Call { function: function.to_string(), args: vec![a, b] })),
        1 => any::<bool>().prop_map(|value| node(ExprKind::Bool { value })),
    ];
    leaf.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (
                proptest::sample::select(vec![BinaryOp::And, BinaryOp::Or]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, lhs, rhs)| binary(op, lhs, rhs)),
            inner.clone().prop_map(|operand| node(ExprKind::Unary {
                op: UnaryOp::Not,
                operand: Box::new(operand)
            })),
            (
                proptest::sample::select(vec![BinaryOp::Equal, BinaryOp::NotEqual]),
                inner.clone(),
                inner
            )
                .prop_map(|(op, lhs, rhs)| binary(op, lhs, rhs)),
        ]
    })
    .boxed()
}

/// An indicator of each kind with random valid parameters; names are unique by index.
fn indicator(index: usize) -> BoxedStrategy<Indicator> {
    proptest::sample::select(INDICATORS.iter().collect::<Vec<_>>())
        .prop_flat_map(move |spec| {
            let parameters: Vec<BoxedStrategy<(String, ParameterValue)>> = spec
                .parameters
                .iter()
                .map(|parameter| {
                    let name = parameter.name.to_string();
                    match &parameter.kind {
                        ParameterKind::Integer { min, max, .. } => (*min..=*max)
                            .prop_map(move |value| {
                                (name.clone(), ParameterValue::Number(value as f64))
                            })
                            .boxed(),
                        ParameterKind::Number { max, .. } => (1u32..=(*max as u32 * 10))
                            .prop_map(move |tenths| {
                                (
                                    name.clone(),
                                    ParameterValue::Number(f64::from(tenths) / 10.0),
                                )
                            })
                            .boxed(),
                        ParameterKind::Source => proptest::sample::select(PriceField::ALL.to_vec())
                            .prop_map(move |field| {
                                (
                                    name.clone(),
                                    ParameterValue::Source(
                                        trading_strategy::language::model::Source::Price { field },
                                    ),
                                )
                            })
                            .boxed(),
                        ParameterKind::Choice { choices, .. } => {
                            proptest::sample::select(choices.to_vec())
                                .prop_map(move |choice| {
                                    (name.clone(), ParameterValue::Choice(choice.to_string()))
                                })
                                .boxed()
                        }
                    }
                })
                .collect();
            (Just(spec), parameters)
        })
        .prop_filter("fast below slow", |(_, parameters)| {
            let value = |wanted: &str| {
                parameters.iter().find(|(name, _)| name == wanted).and_then(
                    |(_, value)| match value {
                        ParameterValue::Number(number) => Some(*number),
                        _ => None,
                    },
                )
            };
            match (value("fast_period"), value("slow_period")) {
                (Some(fast), Some(slow)) => fast < slow,
                _ => true,
            }
        })
        .prop_map(move |(spec, parameters)| Indicator {
            name: format!("{}_{index}", spec.type_name),
            indicator_type: spec.type_name.to_string(),
            parameters: parameters.into_iter().collect(),
            span: Span::default(),
            name_span: Span::default(),
        })
        .boxed()
}

fn references_of(indicators: &[Indicator], position_variables: bool) -> References {
    let mut found = Vec::new();
    for indicator in indicators {
        let spec = INDICATORS
            .iter()
            .find(|spec| spec.type_name == indicator.indicator_type)
            .expect("known type");
        if spec.is_multi_output() {
            for output in spec.outputs {
                found.push((indicator.name.clone(), Some(output.name.to_string())));
            }
        } else {
            found.push((indicator.name.clone(), None));
        }
    }
    References {
        indicators: found,
        position_variables,
    }
}

fn condition(expression: Expr) -> Condition {
    Condition {
        text: String::new(),
        canonical: print_expression(&expression),
        expression,
    }
}

fn strategy_model() -> impl Strategy<Value = StrategyModel> {
    (1usize..5)
        .prop_flat_map(|count| (0..count).map(indicator).collect::<Vec<_>>())
        .prop_flat_map(|indicators| {
            let entry = boolean(references_of(&indicators, false));
            let exit = boolean(references_of(&indicators, true));
            let stop = proptest::option::of(boolean(references_of(&indicators, true)));
            (
                Just(indicators),
                entry,
                exit,
                stop,
                "[A-Za-z][A-Za-z0-9 éü'\"-]{2,40}",
                proptest::option::of("[ -~]{0,80}"),
                ("[A-Z0-9]{1,12}", "[A-Z0-9]{1,12}"),
                proptest::sample::select(Timeframe::ALL.to_vec()),
                (1u32..=100, 1u32..=100, proptest::option::of(1u32..=100)),
            )
        })
        .prop_map(
            |(
                indicators,
                entry,
                exit,
                stop,
                name,
                description,
                (base, quote),
                timeframe,
                (daily, drawdown, stop_loss),
            )| StrategyModel {
                name: name.trim().to_string(),
                description,
                trading_pair: format!("{base}/{quote}"),
                timeframe: Some(timeframe),
                strategy_id: None,
                version: None,
                indicators,
                entry_conditions: Some(condition(entry)),
                exit_conditions: Some(condition(exit)),
                stop_conditions: stop.map(condition),
                position_sizing: Some(PositionSizing {
                    sizing_type: Some(if stop_loss.is_some() {
                        SizingType::RiskBased
                    } else {
                        SizingType::Percentage
                    }),
                    percentage_of_capital: stop_loss.is_none().then_some(0.25),
                    fixed_amount: None,
                    risk_per_trade: stop_loss.map(|_| 0.01),
                    max_position_size: None,
                }),
                risk_parameters: Some(RiskParameters {
                    max_daily_loss: Some(f64::from(daily) / 100.0),
                    max_drawdown: Some(f64::from(drawdown) / 100.0),
                    stop_loss_percentage: stop_loss.map(|value| f64::from(value) / 100.0),
                    ..RiskParameters::default()
                }),
            },
        )
        .prop_filter("names stay names after trimming", |strategy| {
            strategy.name.chars().count() >= 3
        })
}

/// The model with everything that depends on layout (spans, the text as typed) cleared.
fn comparable(strategy: &StrategyModel) -> StrategyModel {
    let mut strategy = strategy.clone();
    for indicator in &mut strategy.indicators {
        indicator.span = Span::default();
        indicator.name_span = Span::default();
    }
    for condition in [
        &mut strategy.entry_conditions,
        &mut strategy.exit_conditions,
        &mut strategy.stop_conditions,
    ]
    .into_iter()
    .flatten()
    {
        condition.text = String::new();
        condition.expression = condition.expression.without_spans();
    }
    strategy
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn every_printed_condition_parses_back_to_the_same_tree(expression in boolean(References {
        indicators: vec![("rsi_14".to_string(), None), ("macd_1".to_string(), Some("signal".to_string()))],
        position_variables: true,
    })) {
        let printed = print_expression(&expression);
        let outcome = parse_condition(&printed);
        prop_assert!(outcome.diagnostics.is_empty(), "{printed}: {:?}", outcome.diagnostics);
        let parsed = outcome.expression.expect("parses");
        prop_assert_eq!(parsed.without_spans(), expression.without_spans(), "{}", printed);
        prop_assert_eq!(print_expression(&parsed), printed);
    }

    #[test]
    fn every_written_document_reads_back_as_the_same_model(strategy in strategy_model(), toml in any::<bool>()) {
        let format = if toml { Format::Toml } else { Format::Yaml };
        let text = write_document(&strategy, format);
        let validation = validate(&text, format);
        prop_assert!(!validation.has_errors(), "{text}\n{:#?}", validation.diagnostics);
        let read = validation.strategy.expect("a model");
        prop_assert_eq!(comparable(&read), comparable(&strategy), "{}", text);
    }

    #[test]
    fn no_text_makes_the_engine_panic(text in ".{0,400}", toml in any::<bool>()) {
        let format = if toml { Format::Toml } else { Format::Yaml };
        let validation = validate(&text, format);
        let _ = syntax_test_of(&text, &validation);
        for diagnostic in &validation.diagnostics {
            prop_assert!(diagnostic.span.start <= diagnostic.span.end && diagnostic.span.end <= text.len());
        }
    }

    #[test]
    fn no_mutation_of_a_valid_document_makes_the_engine_panic(
        strategy in strategy_model(),
        toml in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, "[ -~\r\n\té]{0,6}"), 1..6),
    ) {
        let format = if toml { Format::Toml } else { Format::Yaml };
        let mut text = write_document(&strategy, format);
        for (at, remove, insert) in edits {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + remove).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, &insert);
        }
        let validation = validate(&text, format);
        let report = syntax_test_of(&text, &validation);
        let _ = report.summary.map(|summary| summary.to_text());
        let first = strategy.indicators[0].name.clone();
        let edits = [
            Edit::SetParameter { indicator: first.clone(), parameter: "period".to_string(), value: EditValue::Number(5.0) },
            Edit::RemoveParameter { indicator: first.clone(), parameter: "period".to_string() },
            Edit::AddIndicator { indicator_type: "rsi".to_string(), name: "rsi_new".to_string(), parameters: vec![("period".to_string(), EditValue::Number(9.0))] },
            Edit::RemoveIndicator { name: first.clone() },
            Edit::RenameIndicator { name: first.clone(), new_name: "renamed".to_string() },
            Edit::ChangeIndicatorType { name: first.clone(), indicator_type: "ema".to_string() },
            Edit::MoveIndicator { name: first, to: 1 },
            Edit::SetField { path: "risk_parameters.max_drawdown".to_string(), value: EditValue::Number(0.3) },
            Edit::SetField { path: "name".to_string(), value: EditValue::Text("Renamed \"copy\"".to_string()) },
            Edit::AddClause { condition: ConditionField::Entry, connective: Connective::And, clause: "close > open".to_string() },
            Edit::AddClause { condition: ConditionField::Stop, connective: Connective::Or, clause: "drawdown > 0.1".to_string() },
            Edit::ReplaceClause { condition: ConditionField::Exit, index: 0, clause: "close < open OR volume > 0".to_string() },
            Edit::RemoveClause { condition: ConditionField::Exit, index: 1 },
        ];
        for edit in &edits {
            if let Ok(edited) = apply_edit(&text, format, edit) {
                let _ = validate(&edited, format);
            }
        }
    }

    #[test]
    fn setting_a_parameter_changes_only_that_value(strategy in strategy_model(), toml in any::<bool>(), period in 2u32..=200) {
        let format = if toml { Format::Toml } else { Format::Yaml };
        let text = write_document(&strategy, format);
        let Some(target) = strategy.indicators.iter().find(|indicator| indicator.parameters.contains_key("period")) else {
            return Ok(());
        };
        let edit = Edit::SetParameter {
            indicator: target.name.clone(),
            parameter: "period".to_string(),
            value: EditValue::Number(f64::from(period)),
        };
        let edited = apply_edit(&text, format, &edit).expect("the edit applies");
        let read = validate(&edited, format).strategy.expect("a model");
        let mut expected = comparable(&strategy);
        if let Some(indicator) = expected.indicators.iter_mut().find(|indicator| indicator.name == target.name) {
            indicator.parameters.insert("period".to_string(), ParameterValue::Number(f64::from(period)));
        }
        // A period outside the type's range is refused by validation but still written.
        if validate(&edited, format).has_errors() {
            return Ok(());
        }
        prop_assert_eq!(comparable(&read), expected);
    }
}
