//! Protocol steps: a measurement with a unit and limits, a pass/fail check, or a free
//! observation.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use crate::attestation::Recorded;
use crate::unit::{Decimal, Quantity, Unit, UnitError};

/// One step of a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "StepJson<'static>")]
pub struct Step {
    /// Stable id, cited by results (`no-load-current`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// How to perform it: equipment, setup, procedure.
    pub method: String,
    /// A failed critical step rejects the batch whatever the sampling plan allows.
    pub critical: bool,
    /// Whether every sampled unit needs a result for this step.
    pub required: bool,
    /// What kind of step, and its limits.
    pub kind: StepKind,
}

/// What a step records.
// A protocol has tens of steps: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// A measured quantity that must be within limits.
    Measurement {
        /// The unit results are compared in (results may use any unit of the same kind).
        unit: Unit,
        /// The limits.
        limits: Limits,
    },
    /// A yes/no check (e.g. "survives reverse polarity").
    Check,
    /// A free-text observation; recorded, never judged.
    Observation,
}

/// A step's JSON form: flat, so that unknown fields can be refused (serde cannot refuse
/// them through a flattened enum). Written from a borrowed step: a protocol's content
/// hash serializes every step on every verification.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StepJson<'a> {
    id: Cow<'a, str>,
    title: Cow<'a, str>,
    method: Cow<'a, str>,
    critical: bool,
    required: bool,
    kind: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    unit: Option<Cow<'a, Unit>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    limits: Option<Cow<'a, Limits>>,
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (kind, unit, limits) = match &self.kind {
            StepKind::Measurement { unit, limits } => (
                "measurement",
                Some(Cow::Borrowed(unit)),
                Some(Cow::Borrowed(limits)),
            ),
            StepKind::Check => ("check", None, None),
            StepKind::Observation => ("observation", None, None),
        };
        StepJson {
            id: Cow::Borrowed(&self.id),
            title: Cow::Borrowed(&self.title),
            method: Cow::Borrowed(&self.method),
            critical: self.critical,
            required: self.required,
            kind: Cow::Borrowed(kind),
            unit,
            limits,
        }
        .serialize(s)
    }
}

impl Step {
    /// Judges one recorded result against this step: `Ok(true)` within limits (a
    /// passed check, any observation), `Ok(false)` outside them, `Err` with the reason
    /// when it cannot be judged (a result of the wrong kind, an incompatible unit).
    pub fn accepts(&self, recorded: &Recorded) -> Result<bool, String> {
        self.bounds().accepts(recorded)
    }

    /// The step's limits worked out in its base unit once, to judge many results.
    pub fn bounds(&self) -> Bounds<'_> {
        let range = match &self.kind {
            StepKind::Measurement { unit, limits } => limits.range(unit).map_err(|e| e.to_string()),
            _ => Ok((None, None)),
        };
        Bounds { step: self, range }
    }
}

/// A step with its limits in its base unit ([`Step::bounds`]).
#[derive(Debug, Clone)]
pub struct Bounds<'a> {
    step: &'a Step,
    range: Result<(Option<Decimal>, Option<Decimal>), String>,
}

impl Bounds<'_> {
    /// [`Step::accepts`], without working the limits out again.
    pub fn accepts(&self, recorded: &Recorded) -> Result<bool, String> {
        match (&self.step.kind, recorded) {
            (StepKind::Measurement { unit, .. }, Recorded::Measured(quantity)) => {
                let value = quantity.in_base_of(unit).map_err(|e| e.to_string())?;
                let (low, high) = self.range.clone()?;
                Ok(low.is_none_or(|l| value >= l) && high.is_none_or(|h| value <= h))
            }
            (StepKind::Check, Recorded::Checked(passed)) => Ok(*passed),
            (StepKind::Observation, Recorded::Noted(_)) => Ok(true),
            (kind, _) => Err(format!(
                "expected {}",
                match kind {
                    StepKind::Measurement { .. } => "a value",
                    StepKind::Check => "passed: true or false",
                    StepKind::Observation => "a note",
                }
            )),
        }
    }
}

impl TryFrom<StepJson<'static>> for Step {
    type Error = String;
    fn try_from(json: StepJson<'static>) -> Result<Self, String> {
        let kind = match (json.kind.as_ref(), json.unit, json.limits) {
            ("measurement", Some(unit), Some(limits)) => StepKind::Measurement {
                unit: unit.into_owned(),
                limits: limits.into_owned(),
            },
            ("measurement", _, _) => {
                return Err(format!("measurement {:?} needs a unit and limits", json.id))
            }
            ("check", None, None) => StepKind::Check,
            ("observation", None, None) => StepKind::Observation,
            ("check" | "observation", _, _) => {
                return Err(format!("{} {:?} has no unit or limits", json.kind, json.id))
            }
            (other, _, _) => {
                return Err(format!(
                    "{other:?} is not measurement, check or observation"
                ))
            }
        };
        Ok(Step {
            id: json.id.into_owned(),
            title: json.title.into_owned(),
            method: json.method.into_owned(),
            critical: json.critical,
            required: json.required,
            kind,
        })
    }
}

/// Limits of a measurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Inclusive minimum, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min: Option<Quantity>,
    /// Inclusive maximum, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max: Option<Quantity>,
    /// Nominal value, with `tolerance`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nominal: Option<Quantity>,
    /// Allowed deviation from nominal: a quantity (`0.1 V`) or a percentage of it (`1 %`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tolerance: Option<Quantity>,
}

impl Limits {
    /// The inclusive range `[low, high]` in the base unit of `unit`'s dimension (see
    /// [`Quantity::in_base_of`]), either end open.
    ///
    /// A tolerance in `%` is relative to the nominal value (`230 V ± 1 %`), except for a
    /// measurement that is itself in `%`, where it is in percentage points
    /// (`95 % ± 1 %` is 94 % … 96 %): relative percent of a percentage is never what a
    /// workshop means.
    pub fn range(&self, unit: &Unit) -> Result<(Option<Decimal>, Option<Decimal>), UnitError> {
        if let (Some(nominal), Some(tolerance)) = (&self.nominal, &self.tolerance) {
            let too_precise = || UnitError::TooPrecise(format!("{nominal} ± {tolerance}"));
            let nominal_value = nominal.in_base_of(unit)?;
            let delta = if tolerance.unit.is_percent() && !unit.is_percent() {
                nominal_value
                    .percent_of(tolerance.value)
                    .map(Decimal::abs)
                    .ok_or_else(too_precise)?
            } else {
                tolerance.in_base_of(unit)?
            };
            let low = nominal_value.checked_sub(delta).ok_or_else(too_precise)?;
            let high = nominal_value.checked_add(delta).ok_or_else(too_precise)?;
            return Ok((Some(low), Some(high)));
        }
        let low = self.min.as_ref().map(|q| q.in_base_of(unit)).transpose()?;
        let high = self.max.as_ref().map(|q| q.in_base_of(unit)).transpose()?;
        Ok((low, high))
    }

    /// The limits in words, e.g. `≥ 95 %`, `14.4 V ± 0.1 V`, `10 mA … 15 mA`.
    pub fn describe(&self) -> String {
        match (&self.min, &self.max, &self.nominal, &self.tolerance) {
            (_, _, Some(n), Some(t)) => format!("{n} ± {t}"),
            (Some(min), Some(max), _, _) => format!("{min} … {max}"),
            (Some(min), None, _, _) => format!("≥ {min}"),
            (None, Some(max), _, _) => format!("≤ {max}"),
            _ => "no limits".into(),
        }
    }
}
