//! A review protocol: parsed from its TOML source, validated, and identified by the
//! SHA-256 of its JCS-canonical JSON form (the hash attestations cite).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use toml::Spanned;

use crate::reviewers::{DecisionRule, ReviewerRequirements};
use crate::sampling::{SamplingPlan, SamplingRow};
use crate::step::{Limits, Step, StepKind};
use crate::unit::{Quantity, Unit};

/// A validation error, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolIssue {
    /// 1-based line in the TOML source, when known.
    pub line: Option<usize>,
    /// The field, e.g. `steps[3].max` or `reviewers.quorum`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ProtocolIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Why a protocol was refused: every problem found, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ProtocolError(pub Vec<ProtocolIssue>);

/// What a protocol reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subject {
    /// A product batch, or a person's skill.
    pub kind: SubjectKind,
    /// The product model or the skill ("MPPT20 solar charge controller").
    pub name: String,
}

/// A product or a skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// Hardware produced in batches.
    Product,
    /// A skill assessed for a badge.
    Skill,
}

/// A validated review protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Protocol {
    /// Stable name (`mppt20-batch-qa`).
    pub id: String,
    /// Version of this text (`1.0.0`); a changed protocol is a new version.
    pub version: String,
    /// Title.
    pub title: String,
    /// Purpose and scope.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    /// What it reviews.
    pub subject: Subject,
    /// The steps, in the order they are performed.
    pub steps: Vec<Step>,
    /// How many units to inspect.
    pub sampling: SamplingPlan,
    /// Who may review, and how many.
    pub reviewers: ReviewerRequirements,
    /// How disagreement is decided.
    pub decision: DecisionRule,
}

/// The SHA-256 of a protocol's JCS-canonical JSON form, written `sha256:<hex>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProtocolHash(pub [u8; 32]);

impl fmt::Display for ProtocolHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for ProtocolHash {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("{text:?} is not sha256:<64 hex digits>"))?;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(format!("{text:?} is not sha256:<64 lowercase hex digits>"));
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(ProtocolHash(out))
    }
}

impl Serialize for ProtocolHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProtocolHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Protocol {
    /// Parses and validates a protocol's TOML source.
    pub fn parse(source: &str) -> Result<Protocol, ProtocolError> {
        let raw: RawProtocol = toml::from_str(source).map_err(|e| {
            let line = e.span().map(|s| line_of(source, s.start));
            ProtocolError(vec![ProtocolIssue {
                line,
                field: "(document)".into(),
                message: e.message().to_owned(),
            }])
        })?;
        raw.validate(source)
    }

    /// The protocol's canonical JSON form (what its credential carries).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("protocols serialize")
    }

    /// Reads a protocol from its JSON form and validates it as the TOML parser does.
    pub fn from_json(value: &serde_json::Value) -> Result<Protocol, ProtocolError> {
        let protocol = Protocol::deserialize(value).map_err(|e| {
            ProtocolError(vec![ProtocolIssue {
                line: None,
                field: "(json)".into(),
                message: e.to_string(),
            }])
        })?;
        let mut issues = Vec::new();
        check_semantics(&protocol, &Spans::default(), &mut issues);
        if issues.is_empty() {
            Ok(protocol)
        } else {
            Err(ProtocolError(
                issues
                    .into_iter()
                    .map(|(_, field, message)| ProtocolIssue {
                        line: None,
                        field,
                        message,
                    })
                    .collect(),
            ))
        }
    }

    /// SHA-256 of the JCS-canonical JSON form.
    pub fn hash(&self) -> ProtocolHash {
        // Straight from the struct: the same bytes as canonicalizing `to_json()`.
        let bytes = guildmark_credentials::jcs::to_canonical(self).expect("protocols serialize");
        ProtocolHash(Sha256::digest(bytes).into())
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// The TOML document, as written, with spans for error messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawProtocol {
    id: Spanned<String>,
    version: Spanned<String>,
    title: String,
    description: Option<String>,
    subject: Spanned<RawSubject>,
    sampling: Spanned<RawSampling>,
    reviewers: Spanned<RawReviewers>,
    #[serde(default)]
    decision: Option<Spanned<RawDecision>>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSubject {
    kind: Spanned<String>,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSampling {
    #[serde(default)]
    every_unit: bool,
    #[serde(default)]
    plan: Vec<Spanned<RawRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRow {
    lots: Spanned<String>,
    sample: Spanned<toml::Value>,
    accept: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReviewers {
    achievements: Spanned<Vec<String>>,
    quorum: Spanned<i64>,
    #[serde(default = "one")]
    distinct_communities: Spanned<i64>,
    #[serde(default = "yes")]
    independent_of_producer: bool,
    max_age_days: Spanned<i64>,
}

fn one() -> Spanned<i64> {
    Spanned::new(0..0, 1)
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDecision {
    on_failure: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    id: Spanned<String>,
    kind: Spanned<String>,
    title: String,
    method: String,
    #[serde(default)]
    critical: bool,
    #[serde(default)]
    required: Option<bool>,
    unit: Option<Spanned<String>>,
    min: Option<Spanned<String>>,
    max: Option<Spanned<String>>,
    nominal: Option<Spanned<String>>,
    tolerance: Option<Spanned<String>>,
}

/// Where things were in the source, for semantic checks run after conversion.
#[derive(Default)]
struct Spans {
    quorum: Option<usize>,
    communities: Option<usize>,
    achievements: Option<usize>,
    max_age: Option<usize>,
    steps: Vec<StepSpans>,
}

/// Where a step and its limit fields start.
#[derive(Default)]
struct StepSpans {
    start: usize,
    fields: Vec<(&'static str, usize)>,
}

impl StepSpans {
    fn of(&self, field: &str) -> usize {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(self.start, |(_, at)| *at)
    }
}

struct Issues<'a> {
    source: &'a str,
    list: Vec<ProtocolIssue>,
}

impl Issues<'_> {
    fn add(&mut self, at: usize, field: impl Into<String>, message: impl Into<String>) {
        let line = if at == 0 && self.source.is_empty() {
            None
        } else {
            Some(line_of(self.source, at))
        };
        self.list.push(ProtocolIssue {
            line,
            field: field.into(),
            message: message.into(),
        });
    }
}

/// What a protocol id, a version or a step id may contain.
const NAME_RULE: &str = "use letters, digits, '-', '.', '_' only";

/// Whether `s` is a non-empty name of letters, digits, '-', '.' and '_'.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// How issues name field `name` of step `i`: `steps[i].name`.
fn step_field(i: usize, name: &str) -> String {
    format!("steps[{i}].{name}")
}

impl RawProtocol {
    /// Converts the document part by part, collecting every issue rather than stopping
    /// at the first, then runs the rules that hold however a protocol is read.
    fn validate(self, source: &str) -> Result<Protocol, ProtocolError> {
        let mut issues = Issues {
            source,
            list: Vec::new(),
        };
        for (value, field) in [(&self.id, "id"), (&self.version, "version")] {
            if !is_name(value.get_ref()) {
                issues.add(value.span().start, field, NAME_RULE);
            }
        }
        let subject_kind = subject_kind(&self.subject.get_ref().kind, &mut issues);
        let (steps, step_spans) = convert_steps(&self.steps, &mut issues);
        let plan = sampling_plan(&self.sampling, &mut issues);
        let r = self.reviewers.get_ref();
        let reviewers = reviewer_requirements(r, &mut issues);
        let decision = decision_rule(self.decision.as_ref(), &mut issues);
        let protocol = Protocol {
            id: self.id.into_inner(),
            version: self.version.into_inner(),
            title: self.title,
            description: self.description,
            subject: Subject {
                kind: subject_kind,
                name: self.subject.into_inner().name,
            },
            steps,
            sampling: plan,
            reviewers,
            decision,
        };
        let spans = Spans {
            quorum: Some(r.quorum.span().start),
            communities: Some(r.distinct_communities.span().start),
            achievements: Some(r.achievements.span().start),
            max_age: Some(r.max_age_days.span().start),
            steps: step_spans,
        };
        let mut semantic = Vec::new();
        check_semantics(&protocol, &spans, &mut semantic);
        for (at, field, message) in semantic {
            issues.add(at, field, message);
        }
        if issues.list.is_empty() {
            Ok(protocol)
        } else {
            issues.list.sort_by_key(|i| i.line);
            Err(ProtocolError(issues.list))
        }
    }
}

/// The subject's kind; an unknown one is reported and read as a product.
fn subject_kind(kind: &Spanned<String>, issues: &mut Issues<'_>) -> SubjectKind {
    match kind.get_ref().as_str() {
        "product" => SubjectKind::Product,
        "skill" => SubjectKind::Skill,
        other => {
            issues.add(
                kind.span().start,
                "subject.kind",
                format!("{other:?} is neither \"product\" nor \"skill\""),
            );
            SubjectKind::Product
        }
    }
}

/// Converts the steps (ids named and unique), noting where each one's limits are written
/// for the semantic checks, which run on the converted protocol.
fn convert_steps(
    raw_steps: &[Spanned<RawStep>],
    issues: &mut Issues<'_>,
) -> (Vec<Step>, Vec<StepSpans>) {
    let mut steps = Vec::new();
    let mut step_spans = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in raw_steps.iter().enumerate() {
        let at = raw.span().start;
        let raw = raw.get_ref();
        step_spans.push(StepSpans {
            start: at,
            fields: [
                ("min", &raw.min),
                ("max", &raw.max),
                ("nominal", &raw.nominal),
                ("tolerance", &raw.tolerance),
            ]
            .into_iter()
            .filter_map(|(name, v)| Some((name, v.as_ref()?.span().start)))
            .collect(),
        });
        if !is_name(raw.id.get_ref()) {
            issues.add(raw.id.span().start, step_field(i, "id"), NAME_RULE);
        }
        if !seen.insert(raw.id.get_ref().clone()) {
            issues.add(
                raw.id.span().start,
                step_field(i, "id"),
                format!("duplicate step id {:?}", raw.id.get_ref()),
            );
        }
        if let Some(kind) = step_kind(i, at, raw, issues) {
            let required = raw
                .required
                .unwrap_or(!matches!(kind, StepKind::Observation));
            steps.push(Step {
                id: raw.id.get_ref().clone(),
                title: raw.title.clone(),
                method: raw.method.clone(),
                critical: raw.critical,
                required,
                kind,
            });
        }
    }
    (steps, step_spans)
}

/// A step's kind: a measurement with its unit and limits, or a check or an observation,
/// which have neither. `None` when the kind or the unit cannot be read.
fn step_kind(i: usize, at: usize, raw: &RawStep, issues: &mut Issues<'_>) -> Option<StepKind> {
    match raw.kind.get_ref().as_str() {
        "measurement" => measurement(i, at, raw, issues),
        "check" | "observation" => {
            for (name, value) in [
                ("unit", &raw.unit),
                ("min", &raw.min),
                ("max", &raw.max),
                ("nominal", &raw.nominal),
                ("tolerance", &raw.tolerance),
            ] {
                if let Some(value) = value {
                    issues.add(
                        value.span().start,
                        step_field(i, name),
                        format!("a {} step has no {name}", raw.kind.get_ref()),
                    );
                }
            }
            Some(if raw.kind.get_ref() == "check" {
                StepKind::Check
            } else {
                StepKind::Observation
            })
        }
        other => {
            issues.add(
                raw.kind.span().start,
                step_field(i, "kind"),
                format!("{other:?} is not measurement, check or observation"),
            );
            None
        }
    }
}

/// A measurement's unit (required) and limits, each parsed; how the limits fit together
/// is left to `check_limits`.
fn measurement(i: usize, at: usize, raw: &RawStep, issues: &mut Issues<'_>) -> Option<StepKind> {
    let unit = match &raw.unit {
        None => {
            issues.add(at, step_field(i, "unit"), "a measurement needs a unit");
            None
        }
        Some(u) => match u.get_ref().parse::<Unit>() {
            Ok(unit) => Some(unit),
            Err(e) => {
                issues.add(u.span().start, step_field(i, "unit"), e.to_string());
                None
            }
        },
    };
    let limits = Limits {
        min: quantity(i, "min", &raw.min, issues),
        max: quantity(i, "max", &raw.max, issues),
        nominal: quantity(i, "nominal", &raw.nominal, issues),
        tolerance: quantity(i, "tolerance", &raw.tolerance, issues),
    };
    unit.map(|unit| StepKind::Measurement { unit, limits })
}

/// A limit of step `i`, parsed if given.
fn quantity(
    i: usize,
    name: &str,
    value: &Option<Spanned<String>>,
    issues: &mut Issues<'_>,
) -> Option<Quantity> {
    let value = value.as_ref()?;
    match value.get_ref().parse::<Quantity>() {
        Ok(q) => Some(q),
        Err(e) => {
            issues.add(value.span().start, step_field(i, name), e.to_string());
            None
        }
    }
}

/// Where a plan row's fields start.
struct RowSpans {
    lots: usize,
    sample: usize,
    accept: usize,
}

/// The sampling plan: every unit, or a table whose rows are each well formed and together
/// cover every lot size once.
fn sampling_plan(raw: &Spanned<RawSampling>, issues: &mut Issues<'_>) -> SamplingPlan {
    let sampling = raw.get_ref();
    if sampling.every_unit {
        if !sampling.plan.is_empty() {
            issues.add(
                raw.span().start,
                "sampling",
                "give either every-unit = true or a plan, not both",
            );
        }
        return SamplingPlan::EveryUnit;
    }
    let mut rows = Vec::new();
    for (i, row) in sampling.plan.iter().enumerate() {
        if let Some(row) = plan_row(i, row.get_ref(), issues) {
            rows.push(row);
        }
    }
    // An empty table is worth its own issue only when no row was refused.
    if rows.is_empty() && !issues.list.iter().any(|i| i.field.starts_with("sampling")) {
        issues.add(
            raw.span().start,
            "sampling",
            "give every-unit = true or at least one plan row",
        );
    }
    check_plan_coverage(&rows, issues);
    SamplingPlan::Table {
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }
}

/// One plan row read from its fields, or `None` once one of them is malformed.
fn plan_row(i: usize, row: &RawRow, issues: &mut Issues<'_>) -> Option<(RowSpans, SamplingRow)> {
    let field = |name: &str| format!("sampling.plan[{i}].{name}");
    let lots = row.lots.get_ref();
    let parsed = if let Some(min) = lots.strip_suffix('+') {
        min.trim().parse::<u64>().ok().map(|m| (m, None))
    } else {
        lots.split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, Some(b.trim().parse().ok()?))))
    };
    let Some((lot_min, lot_max)) = parsed else {
        issues.add(
            row.lots.span().start,
            field("lots"),
            format!("{lots:?} is not a range like \"9-50\" or \"1201+\""),
        );
        return None;
    };
    let sample = match row.sample.get_ref() {
        toml::Value::String(s) if s == "all" => None,
        toml::Value::Integer(n) if *n >= 1 => Some(*n as u64),
        other => {
            let shown = match other {
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::String(s) => format!("{s:?}"),
                other => format!("a {}", other.type_str()),
            };
            issues.add(
                row.sample.span().start,
                field("sample"),
                format!("{shown} is not a positive number of units or \"all\""),
            );
            return None;
        }
    };
    let accept = *row.accept.get_ref();
    if accept < 0 {
        issues.add(
            row.accept.span().start,
            field("accept"),
            "the acceptance number cannot be negative",
        );
        return None;
    }
    let spans = RowSpans {
        lots: row.lots.span().start,
        sample: row.sample.span().start,
        accept: row.accept.span().start,
    };
    let row = SamplingRow {
        lot_min,
        lot_max,
        sample,
        accept: accept as u64,
    };
    Some((spans, row))
}

/// The rows cover lot sizes from 1 without gaps or overlaps (only the last open-ended),
/// and each row's sample fits its smallest lot and accepts less than all of it.
fn check_plan_coverage(rows: &[(RowSpans, SamplingRow)], issues: &mut Issues<'_>) {
    let mut expected_min = 1u64;
    let count = rows.len();
    for (i, (at, row)) in rows.iter().enumerate() {
        let field = |name: &str| format!("sampling.plan[{i}].{name}");
        if row.lot_min != expected_min {
            issues.add(at.lots, field("lots"), format!("rows must cover lot sizes from 1 without gaps or overlaps; expected a row starting at {expected_min}"));
        }
        match row.lot_max {
            Some(max) if max < row.lot_min => {
                issues.add(at.lots, field("lots"), "the range is empty (min > max)")
            }
            Some(max) => expected_min = max + 1,
            None if i + 1 < count => issues.add(
                at.lots,
                field("lots"),
                "only the last row may be open-ended",
            ),
            None => {}
        }
        if let Some(sample) = row.sample {
            if sample > row.lot_min {
                issues.add(
                    at.sample,
                    field("sample"),
                    format!(
                        "a sample of {sample} cannot be drawn from a lot of {}",
                        row.lot_min
                    ),
                );
            }
            if row.accept >= sample {
                issues.add(
                    at.accept,
                    field("accept"),
                    format!(
                        "accepting {} nonconforming units of a sample of {sample} accepts anything",
                        row.accept
                    ),
                );
            }
        }
    }
}

/// The reviewer requirements; a count that does not fit a `u32` is reported and read as
/// 0 (the semantic checks bound them further).
fn reviewer_requirements(r: &RawReviewers, issues: &mut Issues<'_>) -> ReviewerRequirements {
    ReviewerRequirements {
        achievements: r.achievements.get_ref().clone(),
        quorum: reviewer_count(&r.quorum, "quorum", issues),
        distinct_communities: reviewer_count(
            &r.distinct_communities,
            "distinct-communities",
            issues,
        ),
        independent_of_producer: r.independent_of_producer,
        max_age_days: reviewer_count(&r.max_age_days, "max-age-days", issues),
    }
}

/// `reviewers.<name>` as a `u32`, or 0 with an issue.
fn reviewer_count(v: &Spanned<i64>, name: &str, issues: &mut Issues<'_>) -> u32 {
    match u32::try_from(*v.get_ref()) {
        Ok(n) => n,
        Err(_) => {
            issues.add(
                v.span().start,
                format!("reviewers.{name}"),
                "must be a non-negative number",
            );
            0
        }
    }
}

/// The decision rule; without a `[decision]` table, any failure rejects.
fn decision_rule(raw: Option<&Spanned<RawDecision>>, issues: &mut Issues<'_>) -> DecisionRule {
    match raw {
        None => DecisionRule::AnyFailureRejects,
        Some(d) => match d.get_ref().on_failure.get_ref().as_str() {
            "reject" => DecisionRule::AnyFailureRejects,
            "critical-only" => DecisionRule::CriticalFailureRejects,
            other => {
                issues.add(
                    d.get_ref().on_failure.span().start,
                    "decision.on-failure",
                    format!("{other:?} is neither \"reject\" nor \"critical-only\""),
                );
                DecisionRule::AnyFailureRejects
            }
        },
    }
}

/// Rules that hold however the protocol was read (TOML or JSON).
fn check_semantics(protocol: &Protocol, spans: &Spans, issues: &mut Vec<(usize, String, String)>) {
    check_reviewers(&protocol.reviewers, spans, issues);
    if protocol.steps.is_empty() {
        issues.push((
            0,
            "steps".into(),
            "a protocol needs at least one step".into(),
        ));
    }
    for (i, step) in protocol.steps.iter().enumerate() {
        if let StepKind::Measurement { unit, limits } = &step.kind {
            check_limits(i, unit, limits, spans.steps.get(i), issues);
        }
    }
}

/// A quorum of at least 1, from 1 to that many communities, at least one achievement
/// given by its id (a URL), and a maximum age of at least a day.
fn check_reviewers(
    r: &ReviewerRequirements,
    spans: &Spans,
    issues: &mut Vec<(usize, String, String)>,
) {
    if r.quorum < 1 {
        issues.push((
            spans.quorum.unwrap_or(0),
            "reviewers.quorum".into(),
            "the quorum must be at least 1".into(),
        ));
    }
    if r.distinct_communities < 1 || r.distinct_communities > r.quorum.max(1) {
        issues.push((
            spans.communities.unwrap_or(0),
            "reviewers.distinct-communities".into(),
            format!("must be from 1 to the quorum ({})", r.quorum),
        ));
    }
    if r.achievements.is_empty() || r.achievements.iter().any(|a| !a.contains(':')) {
        issues.push((
            spans.achievements.unwrap_or(0),
            "reviewers.achievements".into(),
            "list at least one achievement id (a URL)".into(),
        ));
    }
    if r.max_age_days < 1 {
        issues.push((
            spans.max_age.unwrap_or(0),
            "reviewers.max-age-days".into(),
            "must be at least 1".into(),
        ));
    }
}

/// Step `i`'s limits: given in one complete form, then each in the step's unit, a
/// tolerance not negative, and min no greater than max.
fn check_limits(
    i: usize,
    unit: &Unit,
    limits: &Limits,
    spans: Option<&StepSpans>,
    issues: &mut Vec<(usize, String, String)>,
) {
    let at = |field: &str| spans.map_or(0, |s| s.of(field));
    let field = |name: &str| step_field(i, name);
    // A limit in the wrong form is the one issue worth reporting: the checks below would
    // only restate it.
    if let Some((present, name, message)) = limit_form_issue(limits) {
        issues.push((at(present), field(name), message.into()));
        return;
    }
    if let Some(t) = &limits.tolerance {
        if t.value.is_negative() {
            issues.push((
                at("tolerance"),
                field("tolerance"),
                "a tolerance cannot be negative".into(),
            ));
        }
        if !t.unit.is_percent() {
            if let Err(e) = t.in_base_of(unit) {
                issues.push((at("tolerance"), field("tolerance"), e.to_string()));
            }
        }
    }
    for (name, q) in [
        ("min", &limits.min),
        ("max", &limits.max),
        ("nominal", &limits.nominal),
    ] {
        if let Some(q) = q {
            if let Err(e) = q.in_base_of(unit) {
                issues.push((at(name), field(name), e.to_string()));
            }
        }
    }
    if let Ok((Some(low), Some(high))) = limits.range(unit) {
        if low > high {
            issues.push((
                at("min"),
                field("min"),
                format!(
                    "min ({}) is greater than max ({})",
                    limits
                        .min
                        .as_ref()
                        .map_or(low.to_string(), ToString::to_string),
                    limits
                        .max
                        .as_ref()
                        .map_or(high.to_string(), ToString::to_string)
                ),
            ));
        }
    }
}

/// Whether a measurement gives min/max or nominal ± tolerance, exactly one of them and
/// complete; if not, `(field the issue is located at, field it names, message)`.
fn limit_form_issue(limits: &Limits) -> Option<(&'static str, &'static str, &'static str)> {
    let has_range = limits.min.is_some() || limits.max.is_some();
    let has_nominal = limits.nominal.is_some() || limits.tolerance.is_some();
    if has_range && has_nominal {
        return Some((
            "min",
            "min",
            "give min/max or nominal ± tolerance, not both",
        ));
    }
    if !has_range && !has_nominal {
        return Some((
            "max",
            "max",
            "a measurement needs limits: min, max, or nominal and tolerance",
        ));
    }
    if has_nominal && (limits.nominal.is_none() || limits.tolerance.is_none()) {
        let present = if limits.nominal.is_some() {
            "nominal"
        } else {
            "tolerance"
        };
        return Some((present, "tolerance", "nominal and tolerance go together"));
    }
    None
}
