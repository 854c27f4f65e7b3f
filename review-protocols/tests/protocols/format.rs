//! Bad protocol sources: each is refused with the line and field of the problem.

use guildmark_review_protocols::Protocol;

/// A small valid protocol; cases below break one thing at a time.
const BASE: &str = r#"id = "fan-check"
version = "1"
title = "Fan check"

[subject]
kind = "product"
name = "12 V fan"

[[steps]]
id = "current"
kind = "measurement"
title = "Running current"
method = "At 12 V."
unit = "mA"
min = "80 mA"
max = "120 mA"

[[steps]]
id = "spins"
kind = "check"
title = "Spins up"
method = "From 7 V."

[sampling]
plan = [
  { lots = "1-8", sample = "all", accept = 0 },
  { lots = "9+", sample = 8, accept = 0 },
]

[reviewers]
achievements = ["https://guildmark.example/lumen/achievements/fan-reviewer"]
quorum = 1
max-age-days = 30
"#;

#[test]
fn the_base_is_valid() {
    let p = Protocol::parse(BASE).unwrap();
    assert_eq!(p.reviewers.distinct_communities, 1, "default");
    assert!(p.reviewers.independent_of_producer, "default");
    assert!(
        p.steps.iter().all(|s| s.required),
        "measurements and checks default to required"
    );
}

/// Replaces `from` by `to` in the base (which must change it) and expects exactly one
/// error at `line` on `field` containing `message`.
fn refused(from: &str, to: &str, line: usize, field: &str, message: &str) {
    assert!(BASE.contains(from), "{from:?} is not in the base");
    let source = BASE.replacen(from, to, 1);
    let error = Protocol::parse(&source).expect_err(&format!("{from:?} → {to:?} was accepted"));
    let issue = error
        .0
        .iter()
        .find(|i| i.field == field)
        .unwrap_or_else(|| panic!("{from:?} → {to:?}: no issue on {field}, got:\n{error}"));
    assert_eq!(issue.line, Some(line), "{from:?} → {to:?}: {error}");
    assert!(
        issue.message.contains(message),
        "{from:?} → {to:?}: {:?} lacks {message:?}",
        issue.message
    );
}

macro_rules! refuse {
    ($name:ident, $from:expr, $to:expr, $line:expr, $field:expr, $message:expr) => {
        #[test]
        fn $name() {
            refused($from, $to, $line, $field, $message);
        }
    };
}

refuse!(
    min_above_max,
    "max = \"120 mA\"",
    "max = \"0.07 A\"",
    15,
    "steps[0].min",
    "greater than max"
);
refuse!(
    unknown_unit,
    "unit = \"mA\"",
    "unit = \"furlong\"",
    14,
    "steps[0].unit",
    "unknown unit"
);
refuse!(
    unknown_unit_in_limit,
    "min = \"80 mA\"",
    "min = \"80 mQ\"",
    15,
    "steps[0].min",
    "unknown unit"
);
refuse!(
    limit_in_other_dimension,
    "max = \"120 mA\"",
    "max = \"120 mV\"",
    16,
    "steps[0].max",
    "cannot be compared"
);
refuse!(
    not_a_number,
    "min = \"80 mA\"",
    "min = \"eighty mA\"",
    15,
    "steps[0].min",
    "not a decimal"
);
refuse!(
    duplicate_step,
    "id = \"spins\"",
    "id = \"current\"",
    19,
    "steps[1].id",
    "duplicate step id"
);
refuse!(
    bad_step_id,
    "id = \"spins\"",
    "id = \"spins up\"",
    19,
    "steps[1].id",
    "letters, digits"
);
refuse!(
    bad_kind,
    "kind = \"check\"",
    "kind = \"test\"",
    20,
    "steps[1].kind",
    "not measurement, check or observation"
);
refuse!(
    check_with_unit,
    "method = \"From 7 V.\"",
    "method = \"From 7 V.\"\nunit = \"V\"",
    23,
    "steps[1].unit",
    "a check step has no unit"
);
refuse!(
    measurement_without_unit,
    "unit = \"mA\"\n",
    "",
    9,
    "steps[0].unit",
    "needs a unit"
);
refuse!(
    measurement_without_limits,
    "min = \"80 mA\"\nmax = \"120 mA\"\n",
    "",
    9,
    "steps[0].max",
    "needs limits"
);
refuse!(
    range_and_nominal,
    "max = \"120 mA\"",
    "max = \"120 mA\"\nnominal = \"100 mA\"\ntolerance = \"5 %\"",
    15,
    "steps[0].min",
    "not both"
);
refuse!(
    nominal_without_tolerance,
    "min = \"80 mA\"\nmax = \"120 mA\"",
    "nominal = \"100 mA\"",
    15,
    "steps[0].tolerance",
    "go together"
);
refuse!(
    negative_tolerance,
    "min = \"80 mA\"\nmax = \"120 mA\"",
    "nominal = \"100 mA\"\ntolerance = \"-5 mA\"",
    16,
    "steps[0].tolerance",
    "cannot be negative"
);
refuse!(
    subject_kind,
    "kind = \"product\"",
    "kind = \"service\"",
    6,
    "subject.kind",
    "neither"
);
refuse!(
    quorum_zero,
    "quorum = 1",
    "quorum = 0",
    32,
    "reviewers.quorum",
    "at least 1"
);
refuse!(
    quorum_negative,
    "quorum = 1",
    "quorum = -2",
    32,
    "reviewers.quorum",
    "non-negative"
);
refuse!(
    too_many_communities,
    "quorum = 1",
    "quorum = 1\ndistinct-communities = 2",
    33,
    "reviewers.distinct-communities",
    "from 1 to the quorum"
);
refuse!(
    max_age_zero,
    "max-age-days = 30",
    "max-age-days = 0",
    33,
    "reviewers.max-age-days",
    "at least 1"
);
refuse!(
    achievement_not_a_url,
    "\"https://guildmark.example/lumen/achievements/fan-reviewer\"",
    "\"fan-reviewer\"",
    31,
    "reviewers.achievements",
    "a URL"
);
refuse!(
    no_achievement,
    "[\"https://guildmark.example/lumen/achievements/fan-reviewer\"]",
    "[]",
    31,
    "reviewers.achievements",
    "at least one"
);
refuse!(
    gap_in_plan,
    "lots = \"9+\"",
    "lots = \"10+\"",
    27,
    "sampling.plan[1].lots",
    "expected a row starting at 9"
);
refuse!(
    overlap_in_plan,
    "lots = \"9+\"",
    "lots = \"8+\"",
    27,
    "sampling.plan[1].lots",
    "expected a row starting at 9"
);
refuse!(
    open_row_not_last,
    "lots = \"1-8\"",
    "lots = \"1+\"",
    26,
    "sampling.plan[0].lots",
    "only the last row"
);
refuse!(
    empty_range,
    "lots = \"1-8\"",
    "lots = \"1-0\"",
    26,
    "sampling.plan[0].lots",
    "empty"
);
refuse!(
    bad_range,
    "lots = \"9+\"",
    "lots = \"nine or more\"",
    27,
    "sampling.plan[1].lots",
    "not a range"
);
refuse!(
    sample_bigger_than_lot,
    "sample = 8,",
    "sample = 10,",
    27,
    "sampling.plan[1].sample",
    "cannot be drawn from a lot of 9"
);
refuse!(
    sample_zero,
    "sample = 8,",
    "sample = 0,",
    27,
    "sampling.plan[1].sample",
    "not a positive number"
);
refuse!(
    sample_word,
    "sample = 8,",
    "sample = \"some\",",
    27,
    "sampling.plan[1].sample",
    "not a positive number"
);
refuse!(
    accept_everything,
    "sample = 8, accept = 0",
    "sample = 8, accept = 8",
    27,
    "sampling.plan[1].accept",
    "accepts anything"
);
refuse!(
    negative_accept,
    "sample = 8, accept = 0",
    "sample = 8, accept = -1",
    27,
    "sampling.plan[1].accept",
    "cannot be negative"
);
refuse!(
    plan_and_every_unit,
    "[sampling]\n",
    "[sampling]\nevery-unit = true\n",
    24,
    "sampling",
    "not both"
);
refuse!(
    decision_unknown,
    "max-age-days = 30\n",
    "max-age-days = 30\n\n[decision]\non-failure = \"majority\"\n",
    36,
    "decision.on-failure",
    "neither"
);
refuse!(
    unknown_top_level_field,
    "title = \"Fan check\"",
    "title = \"Fan check\"\nauthor = \"me\"",
    4,
    "(document)",
    "unknown field `author`"
);
refuse!(
    unknown_step_field,
    "method = \"At 12 V.\"",
    "method = \"At 12 V.\"\ntolerence = \"5 %\"",
    14,
    "(document)",
    "unknown field `tolerence`"
);
refuse!(
    misspelt_reviewers_field,
    "quorum = 1",
    "quorom = 1",
    32,
    "(document)",
    "unknown field `quorom`"
);
refuse!(missing_reviewers, "[reviewers]\nachievements = [\"https://guildmark.example/lumen/achievements/fan-reviewer\"]\nquorum = 1\nmax-age-days = 30\n", "", 1, "(document)", "missing field `reviewers`");
refuse!(
    wrong_type,
    "quorum = 1",
    "quorum = \"two\"",
    32,
    "(document)",
    "invalid type"
);
refuse!(
    bad_id,
    "id = \"fan-check\"",
    "id = \"fan check!\"",
    1,
    "id",
    "letters, digits"
);

#[test]
fn not_toml_at_all() {
    let error = Protocol::parse("{\"id\": \"json?\"}").unwrap_err();
    assert_eq!(error.0.len(), 1);
    assert_eq!(error.0[0].line, Some(1));
    let error = Protocol::parse("").unwrap_err();
    assert!(error.to_string().contains("missing field"), "{error}");
}

#[test]
fn every_problem_is_reported_at_once_in_source_order() {
    let source = BASE
        .replace("unit = \"mA\"", "unit = \"furlong\"")
        .replace("quorum = 1", "quorum = 0")
        .replace("lots = \"9+\"", "lots = \"10+\"");
    let error = Protocol::parse(&source).unwrap_err();
    let fields: Vec<&str> = error.0.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(
        fields,
        ["steps[0].unit", "sampling.plan[1].lots", "reviewers.quorum"],
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("line 14: steps[0].unit: unknown unit \"furlong\""),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn the_json_form_is_validated_like_the_toml() {
    let mut json = Protocol::parse(BASE).unwrap().to_json();
    json["steps"][0]["limits"]["min"] = "200 mA".into();
    let error = Protocol::from_json(&json).unwrap_err();
    assert!(error.to_string().contains("greater than max"), "{error}");

    let mut json = Protocol::parse(BASE).unwrap().to_json();
    json["steps"][1]["colour"] = "red".into();
    assert!(
        Protocol::from_json(&json).is_err(),
        "unknown step field accepted"
    );

    let mut json = Protocol::parse(BASE).unwrap().to_json();
    json["reviewers"]["quorum"] = 0.into();
    let error = Protocol::from_json(&json).unwrap_err();
    assert!(error.to_string().contains("reviewers.quorum"), "{error}");

    let mut json = Protocol::parse(BASE).unwrap().to_json();
    json["steps"][1]["unit"] = "V".into();
    assert!(
        Protocol::from_json(&json).is_err(),
        "a check with a unit accepted"
    );
}
