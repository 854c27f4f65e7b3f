//! The library's notion of time: XML Schema `dateTime` / `dateTimeStamp` instants.
//!
//! Nothing in this crate reads the clock. Every check that depends on "now" takes a
//! [`Timestamp`] from the caller, as rustls does with `UnixTime`.
//!
//! Parsing follows XMLSCHEMA11-2 §3.3.7 (`dateTime`) and §3.4.28 (`dateTimeStamp`, which
//! requires a time-zone offset). VC Data Model 2.0 §4.9 and Data Integrity §2.1 require
//! `dateTimeStamp` for `validFrom`, `validUntil`, `created` and `expires`.

use std::fmt;

/// An instant, with nanosecond precision, counted from the Unix epoch in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

/// Why a string is not an XML Schema date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The text does not have the `YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm]` shape.
    #[error(
        "{text:?} is not an XML Schema dateTime (expected YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm))"
    )]
    Malformed {
        /// The text that was given.
        text: String,
    },
    /// A field is out of range (month 13, 31 April, minute 60, offset beyond ±14:00, …).
    #[error("{text:?} has an out-of-range {field}")]
    OutOfRange {
        /// The text that was given.
        text: String,
        /// Which field is out of range.
        field: &'static str,
    },
    /// A `dateTimeStamp` was required but the text has no time-zone offset.
    #[error("{text:?} has no time-zone offset (a dateTimeStamp needs Z or ±hh:mm)")]
    MissingOffset {
        /// The text that was given.
        text: String,
    },
}

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        seconds: 0,
        nanos: 0,
    };

    /// Builds a timestamp from whole seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp { seconds, nanos: 0 }
    }

    /// Builds a timestamp from seconds and nanoseconds since the Unix epoch.
    ///
    /// Nanoseconds beyond one second are carried into the seconds.
    pub fn from_unix(seconds: i64, nanos: u32) -> Self {
        Timestamp {
            seconds: seconds + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Milliseconds since the Unix epoch (rounded towards negative infinity).
    pub fn unix_millis(&self) -> i64 {
        self.seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    /// The sub-second part, in nanoseconds.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// This instant moved by a signed number of seconds.
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        Timestamp {
            seconds: self.seconds.saturating_add(seconds),
            nanos: self.nanos,
        }
    }

    /// Parses an XML Schema `dateTimeStamp`: a `dateTime` that carries a time-zone offset.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        match parse_date_time(text)? {
            (ts, true) => Ok(ts),
            (_, false) => Err(TimeError::MissingOffset { text: text.into() }),
        }
    }

    /// Parses an XML Schema `dateTime`, whose offset is optional.
    ///
    /// Returns the instant (a missing offset is read as UTC, as Data Integrity §2.1 says a
    /// processor that accepts such values must do) and whether an offset was present.
    pub fn parse_date_time(text: &str) -> Result<(Self, bool), TimeError> {
        parse_date_time(text)
    }

    /// Formats as `YYYY-MM-DDThh:mm:ss[.fff…]Z` (RFC 3339 / XML Schema, always UTC).
    ///
    /// Fractional seconds are written only when non-zero, with trailing zeros removed, so
    /// that whole-second instants format exactly as `2024-01-01T00:00:00Z`.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (h, m, s) = (
            secs_of_day / 3600,
            (secs_of_day / 60) % 60,
            secs_of_day % 60,
        );
        if year < 0 {
            write!(f, "-{:04}", -year)?;
        } else {
            write!(f, "{year:04}")?;
        }
        write!(f, "-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A small cursor over ASCII digits and separators.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        let mut v = 0i64;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(b - b'0');
        }
        self.pos = end;
        Some(v)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

fn parse_date_time(text: &str) -> Result<(Timestamp, bool), TimeError> {
    let malformed = || TimeError::Malformed { text: text.into() };
    let range = |field| TimeError::OutOfRange {
        text: text.into(),
        field,
    };
    let mut c = Cursor {
        bytes: text.as_bytes(),
        pos: 0,
    };

    let negative = c.eat(b'-');
    // Year: four or more digits; more than four only without a leading zero.
    let start = c.pos;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.pos += 1;
    }
    let year_digits = &text[start..c.pos];
    if year_digits.len() < 4 || (year_digits.len() > 4 && year_digits.starts_with('0')) {
        return Err(malformed());
    }
    // Years beyond ±999,999 would overflow nothing but mean nothing for credentials.
    if year_digits.len() > 6 {
        return Err(range("year"));
    }
    let mut year: i64 = year_digits.parse().map_err(|_| malformed())?;
    if negative {
        year = -year;
    }
    if !c.eat(b'-') {
        return Err(malformed());
    }
    let month = c.digits(2).ok_or_else(malformed)?;
    if !c.eat(b'-') {
        return Err(malformed());
    }
    let day = c.digits(2).ok_or_else(malformed)?;
    if !c.eat(b'T') {
        return Err(malformed());
    }
    let hour = c.digits(2).ok_or_else(malformed)?;
    if !c.eat(b':') {
        return Err(malformed());
    }
    let minute = c.digits(2).ok_or_else(malformed)?;
    if !c.eat(b':') {
        return Err(malformed());
    }
    let second = c.digits(2).ok_or_else(malformed)?;
    let mut nanos: u32 = 0;
    let mut fraction_nonzero = false;
    if c.eat(b'.') {
        let start = c.pos;
        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.pos += 1;
        }
        let frac = &text[start..c.pos];
        if frac.is_empty() {
            return Err(malformed());
        }
        fraction_nonzero = frac.bytes().any(|b| b != b'0');
        // Digits beyond nanoseconds are truncated: no credential needs them.
        let mut scaled = 0u32;
        for (i, b) in frac.bytes().take(9).enumerate() {
            scaled += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
        }
        nanos = scaled;
    }
    let offset_minutes = match c.peek() {
        None => None,
        Some(b'Z') => {
            c.pos += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2).ok_or_else(malformed)?;
            if !c.eat(b':') {
                return Err(malformed());
            }
            let om = c.digits(2).ok_or_else(malformed)?;
            if om > 59 || oh > 14 || (oh == 14 && om != 0) {
                return Err(range("time-zone offset"));
            }
            let total = oh * 60 + om;
            Some(if sign == b'-' { -total } else { total })
        }
        Some(_) => return Err(malformed()),
    };
    if c.pos != text.len() {
        return Err(malformed());
    }

    if !(1..=12).contains(&month) {
        return Err(range("month"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(range("day"));
    }
    // 24:00:00 is allowed by XML Schema and means the first instant of the next day.
    let end_of_day = hour == 24 && minute == 0 && second == 0 && !fraction_nonzero;
    if (hour > 23 && !end_of_day) || minute > 59 || second > 59 {
        return Err(range("time of day"));
    }

    let days = days_from_civil(year, month, day);
    let seconds =
        days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes.unwrap_or(0) * 60;
    Ok((
        Timestamp {
            seconds,
            nanos: if end_of_day { 0 } else { nanos },
        },
        offset_minutes.is_some(),
    ))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's `days_from_civil` / `civil_from_days` (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! stamp {
        ($name:ident, $text:expr, $secs:expr) => {
            #[test]
            fn $name() {
                let ts = Timestamp::parse($text).unwrap();
                assert_eq!(ts.unix_seconds(), $secs, "{}", $text);
            }
        };
    }
    macro_rules! bad {
        ($name:ident, $text:expr) => {
            #[test]
            fn $name() {
                assert!(
                    Timestamp::parse($text).is_err(),
                    "{} should not parse",
                    $text
                );
            }
        };
    }

    stamp!(epoch, "1970-01-01T00:00:00Z", 0);
    stamp!(vector_created, "2023-02-24T23:36:38Z", 1_677_281_798);
    stamp!(with_millis, "2010-01-01T19:23:24.123Z", 1_262_373_804);
    stamp!(negative_offset, "2010-01-01T19:23:24-05:00", 1_262_391_804);
    stamp!(positive_offset, "2010-01-01T19:23:24+14:00", 1_262_323_404);
    stamp!(end_of_day, "2023-12-31T24:00:00Z", 1_704_067_200);
    stamp!(leap_day, "2024-02-29T00:00:00Z", 1_709_164_800);
    stamp!(before_epoch, "1969-12-31T23:59:59Z", -1);
    bad!(date_only, "2023-01-01");
    bad!(no_offset, "2023-01-01T00:00:00");
    bad!(free_text, "next tuesday");
    bad!(lowercase_t, "2023-01-01t00:00:00Z");
    bad!(month_13, "2023-13-01T00:00:00Z");
    bad!(april_31, "2023-04-31T00:00:00Z");
    bad!(not_leap, "2023-02-29T00:00:00Z");
    bad!(minute_60, "2023-01-01T00:60:00Z");
    bad!(leap_second, "2016-12-31T23:59:60Z");
    bad!(offset_15h, "2023-01-01T00:00:00+15:00");
    bad!(empty_fraction, "2023-01-01T00:00:00.Z");
    bad!(trailing, "2023-01-01T00:00:00Zx");
    bad!(three_digit_year, "999-01-01T00:00:00Z");
    bad!(padded_five_digit_year, "01999-01-01T00:00:00Z");

    #[test]
    fn missing_offset_is_read_as_utc_when_allowed() {
        let (ts, had_offset) = Timestamp::parse_date_time("2023-01-01T00:00:00").unwrap();
        assert!(!had_offset);
        assert_eq!(ts, Timestamp::parse("2023-01-01T00:00:00Z").unwrap());
    }

    #[test]
    fn formats_round_trip() {
        for text in [
            "2023-02-24T23:36:38Z",
            "1969-07-20T20:17:40.5Z",
            "2000-02-29T12:00:00.000000001Z",
        ] {
            assert_eq!(Timestamp::parse(text).unwrap().to_string(), text);
        }
        let ts = Timestamp::parse("2010-01-01T19:23:24-05:00").unwrap();
        assert_eq!(ts.to_string(), "2010-01-02T00:23:24Z");
    }
}
