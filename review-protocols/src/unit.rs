//! Units and exact quantities: `14.4 V`, `12 mA`, `95.2 %`, `45 °C`.
//!
//! Values are exact decimals (never floating point) so that `14.40 V` and `14400 mV`
//! compare equal and a limit is never missed by a rounding error. Quantities are compared
//! in their base unit (`V`, `A`, `s`, …): SI prefixes convert by powers of ten and `min`
//! and `h` by whole factors, so conversion only ever multiplies and stays exact. Units of
//! different dimensions never convert.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a value or unit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// Not a decimal number.
    #[error("{0:?} is not a decimal number")]
    BadNumber(String),
    /// Too many digits to compare exactly.
    #[error("{0:?} has too many digits")]
    TooPrecise(String),
    /// An unknown unit (with or without prefix).
    #[error("unknown unit {0:?} (known: V, A, W, Ω, °C, %, s, min, h, Hz, Wh, Ah, F, H, m, g, Pa, N, rpm, dB, with SI prefixes where meaningful)")]
    UnknownUnit(String),
    /// Units of different quantities.
    #[error("{found} cannot be compared with {expected}")]
    Mismatch {
        /// The unit expected.
        expected: String,
        /// The unit given.
        found: String,
    },
}

/// An exact decimal number: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// The largest scale kept: 10^-24 is beyond any meaningful measurement.
const MAX_SCALE: u32 = 24;

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// An integer.
    pub fn from_integer(n: i64) -> Self {
        Decimal {
            mantissa: n.into(),
            scale: 0,
        }
    }

    /// Multiplies by 10^exponent (exactly, failing only on overflow).
    fn scaled(self, exponent: i32) -> Option<Self> {
        let e = exponent.unsigned_abs();
        if exponent < 0 {
            let scale = self.scale + e;
            return (scale <= MAX_SCALE).then_some(Decimal {
                mantissa: self.mantissa,
                scale,
            });
        }
        if self.scale >= e {
            return Some(Decimal {
                mantissa: self.mantissa,
                scale: self.scale - e,
            });
        }
        let shift = 10i128.checked_pow(e - self.scale)?;
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(shift)?,
            scale: 0,
        })
    }

    /// Both numbers at the same scale.
    fn aligned(self, other: Decimal) -> Option<(i128, i128)> {
        let scale = self.scale.max(other.scale);
        let a = self
            .mantissa
            .checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other
            .mantissa
            .checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        Some((a, b))
    }

    /// The sum (`None` on overflow).
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let (a, b) = self.aligned(other)?;
        Some(Decimal {
            mantissa: a.checked_add(b)?,
            scale: self.scale.max(other.scale),
        })
    }

    /// The difference (`None` on overflow).
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(Decimal {
            mantissa: other.mantissa.checked_neg()?,
            scale: other.scale,
        })
    }

    /// `self × percent / 100` (`None` on overflow).
    pub fn percent_of(self, percent: Decimal) -> Option<Decimal> {
        let mantissa = self.mantissa.checked_mul(percent.mantissa)?;
        let scale = self.scale + percent.scale + 2;
        (scale <= 2 * MAX_SCALE + 2).then_some(Decimal { mantissa, scale })
    }

    /// The absolute value.
    pub fn abs(self) -> Decimal {
        Decimal {
            mantissa: self.mantissa.saturating_abs(),
            scale: self.scale,
        }
    }

    /// Whether the number is negative.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.aligned(*other) {
            Some((a, b)) => a.cmp(&b),
            // Only reachable with absurd magnitudes; fall back to an approximate order.
            None => (self.mantissa as f64 / 10f64.powi(self.scale as i32))
                .total_cmp(&(other.mantissa as f64 / 10f64.powi(other.scale as i32))),
        }
    }
}

impl FromStr for Decimal {
    type Err = UnitError;

    /// Parses `-12.345`, `0.5`, `1e3`, `2.5E-3` (no spaces, no thousands separators).
    fn from_str(text: &str) -> Result<Self, UnitError> {
        let bad = || UnitError::BadNumber(text.to_owned());
        let (number, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
            None => (text, 0),
        };
        let (negative, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number.strip_prefix('+').unwrap_or(number)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || digits.ends_with('.') && frac.is_empty() && int.is_empty()
        {
            return Err(bad());
        }
        if int.len() + frac.len() > 30 || exponent.unsigned_abs() > 30 {
            return Err(UnitError::TooPrecise(text.to_owned()));
        }
        // At most 30 digits: fits an i128.
        let mut mantissa = int
            .bytes()
            .chain(frac.bytes())
            .fold(0i128, |m, digit| m * 10 + i128::from(digit - b'0'));
        if negative {
            mantissa = -mantissa;
        }
        Decimal {
            mantissa,
            scale: frac.len() as u32,
        }
        .scaled(exponent)
        .ok_or_else(|| UnitError::TooPrecise(text.to_owned()))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac}")
        }
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// What a unit measures; only units of one dimension compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dimension {
    Voltage,
    Current,
    Power,
    Resistance,
    Temperature,
    Ratio,
    Time,
    Frequency,
    Energy,
    Charge,
    Capacitance,
    Inductance,
    Length,
    Mass,
    Pressure,
    Force,
    Rotation,
    Level,
}

/// Units: symbol, dimension, whether SI prefixes apply, and the whole factor to the
/// dimension's base unit.
const BASE_UNITS: &[(&str, Dimension, bool, i64)] = &[
    ("V", Dimension::Voltage, true, 1),
    ("A", Dimension::Current, true, 1),
    ("W", Dimension::Power, true, 1),
    ("Ω", Dimension::Resistance, true, 1),
    ("ohm", Dimension::Resistance, true, 1),
    ("°C", Dimension::Temperature, false, 1),
    ("%", Dimension::Ratio, false, 1),
    ("s", Dimension::Time, true, 1),
    ("min", Dimension::Time, false, 60),
    ("h", Dimension::Time, false, 3600),
    ("Hz", Dimension::Frequency, true, 1),
    ("Wh", Dimension::Energy, true, 1),
    ("Ah", Dimension::Charge, true, 1),
    ("F", Dimension::Capacitance, true, 1),
    ("H", Dimension::Inductance, true, 1),
    ("m", Dimension::Length, true, 1),
    ("g", Dimension::Mass, true, 1),
    ("Pa", Dimension::Pressure, true, 1),
    ("N", Dimension::Force, true, 1),
    ("rpm", Dimension::Rotation, false, 1),
    ("dB", Dimension::Level, false, 1),
];

/// SI prefixes and their powers of ten (`u` is accepted for `µ`).
const PREFIXES: &[(&str, i32)] = &[
    ("p", -12),
    ("n", -9),
    ("µ", -6),
    ("μ", -6),
    ("u", -6),
    ("m", -3),
    ("k", 3),
    ("M", 6),
    ("G", 9),
];

/// A unit's symbol as written. Symbols are short, and one is read for every measured
/// value of every attestation: kept inline, they cost no allocation.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Symbol {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<str>),
}

impl Symbol {
    fn new(text: &str) -> Symbol {
        match text.len() {
            len @ 0..=22 => {
                let mut bytes = [0; 22];
                bytes[..len].copy_from_slice(text.as_bytes());
                Symbol::Inline {
                    len: len as u8,
                    bytes,
                }
            }
            _ => Symbol::Heap(text.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Symbol::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).expect("copied from a str")
            }
            Symbol::Heap(text) => text,
        }
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit: a base unit with an optional SI prefix, e.g. `mA`, `kΩ`, `°C`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unit {
    symbol: Symbol,
    dimension: Dimension,
    exponent: i32,
    factor: i64,
}

impl Unit {
    /// The unit as written.
    pub fn symbol(&self) -> &str {
        self.symbol.as_str()
    }

    /// Whether this is `%`.
    pub fn is_percent(&self) -> bool {
        self.dimension == Dimension::Ratio
    }

    /// Whether quantities in `self` and `other` can be compared.
    pub fn compatible(&self, other: &Unit) -> Result<(), UnitError> {
        if self.dimension == other.dimension {
            Ok(())
        } else {
            Err(UnitError::Mismatch {
                expected: other.symbol().to_owned(),
                found: self.symbol().to_owned(),
            })
        }
    }

    /// `value` in this unit, converted exactly to the dimension's base unit.
    pub fn to_base(&self, value: Decimal) -> Result<Decimal, UnitError> {
        let too_precise = || UnitError::TooPrecise(format!("{value} {}", self.symbol));
        let multiplied = Decimal {
            mantissa: value
                .mantissa
                .checked_mul(self.factor.into())
                .ok_or_else(too_precise)?,
            scale: value.scale,
        };
        multiplied.scaled(self.exponent).ok_or_else(too_precise)
    }
}

impl FromStr for Unit {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        // Parsed for every measured value of every attestation: no allocation unless
        // the text spells "ohm".
        // "ohm" is read as "Ω", which BASE_UNITS lists before "ohm".
        let normalized: std::borrow::Cow<'_, str> = if text.contains("ohm") {
            text.replace("ohm", "Ω").into()
        } else {
            text.into()
        };
        let unit = |dimension, exponent, factor| Unit {
            symbol: Symbol::new(text),
            dimension,
            exponent,
            factor,
        };
        // Whole symbols first, so that `m` is metres, `min` minutes and `mV` millivolts.
        for &(base, dimension, _, factor) in BASE_UNITS {
            if normalized == base {
                return Ok(unit(dimension, 0, factor));
            }
        }
        for &(prefix, exponent) in PREFIXES {
            let Some(rest) = normalized.strip_prefix(prefix) else {
                continue;
            };
            for &(base, dimension, prefixable, factor) in BASE_UNITS {
                if prefixable && rest == base {
                    return Ok(unit(dimension, exponent, factor));
                }
            }
        }
        Err(UnitError::UnknownUnit(text.to_owned()))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.symbol())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A value with its unit, e.g. `14.4 V`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    /// The number.
    pub value: Decimal,
    /// Its unit.
    pub unit: Unit,
}

impl Quantity {
    /// The value in the base unit of `unit`'s dimension (`14.4 V` → 14.4, `11.8 mA` →
    /// 0.0118), refused if the units measure different things.
    pub fn in_base_of(&self, unit: &Unit) -> Result<Decimal, UnitError> {
        self.unit.compatible(unit)?;
        self.unit.to_base(self.value)
    }
}

impl FromStr for Quantity {
    type Err = UnitError;

    /// Parses `14.4 V`, `12mA`, `95 %`, `-20 °C`.
    fn from_str(text: &str) -> Result<Self, UnitError> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
            .unwrap_or(text.len());
        // "1e3 m": the 'e' belongs to the number only if a digit follows it.
        let (number, unit) = text.split_at(split);
        let unit = unit.trim();
        if unit.is_empty() {
            return Err(UnitError::UnknownUnit(String::new()));
        }
        Ok(Quantity {
            value: number.trim().parse()?,
            unit: unit.parse()?,
        })
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Parsed from the borrowed text: every measured value of every attestation.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"14.4 V\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Quantity, E> {
                text.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! same {
        ($name:ident, $a:expr, $b:expr) => {
            #[test]
            fn $name() {
                let a: Quantity = $a.parse().unwrap();
                let b: Quantity = $b.parse().unwrap();
                assert_eq!(
                    a.in_base_of(&b.unit).unwrap(),
                    b.in_base_of(&a.unit).unwrap(),
                    "{} vs {}",
                    $a,
                    $b
                );
            }
        };
    }

    same!(millivolts, "14.4 V", "14400 mV");
    same!(milliamps, "0.0118 A", "11.8 mA");
    same!(kilohms, "4.7 kΩ", "4700 ohm");
    same!(micro_u, "2.2 uF", "2.2 µF");
    same!(megahertz, "1.5 MHz", "1500 kHz");
    same!(exponent, "1.2e-3 A", "1.2 mA");
    same!(no_space, "20A", "20000 mA");
    same!(minutes, "2.5 min", "150 s");
    same!(hours, "1 h", "3600000 ms");
    same!(milliamp_hours, "4400 mAh", "4.4 Ah");

    #[test]
    fn exact_where_floats_are_not() {
        let a: Decimal = "0.1".parse().unwrap();
        let b: Decimal = "0.2".parse().unwrap();
        assert_eq!(a.checked_add(b).unwrap(), "0.3".parse::<Decimal>().unwrap());
        assert_eq!("14.40".parse::<Decimal>().unwrap().to_string(), "14.4");
    }

    #[test]
    fn dimensions_do_not_mix() {
        let volts: Unit = "V".parse().unwrap();
        let amps: Quantity = "3 A".parse().unwrap();
        assert!(matches!(
            amps.in_base_of(&volts),
            Err(UnitError::Mismatch { .. })
        ));
        assert!("5 °C"
            .parse::<Quantity>()
            .unwrap()
            .in_base_of(&"%".parse().unwrap())
            .is_err());
        for bad in ["5 furlongs", "5", "V", "5 kk V", "1.2.3 V", "-- V", "5 m°C"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn metres_are_not_milli_anything() {
        let m: Unit = "m".parse().unwrap();
        let mm: Quantity = "1500 mm".parse().unwrap();
        assert_eq!(
            mm.in_base_of(&m).unwrap(),
            "1.5".parse::<Decimal>().unwrap()
        );
        let minutes: Unit = "min".parse().unwrap();
        assert_eq!(
            "90 s"
                .parse::<Quantity>()
                .unwrap()
                .in_base_of(&minutes)
                .unwrap(),
            Decimal::from_integer(90)
        );
    }
}
