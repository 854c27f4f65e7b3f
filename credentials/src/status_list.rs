//! Bitstring Status List v1.0 (<https://www.w3.org/TR/vc-bitstring-status-list/>):
//! revocation and suspension as bits in a compressed list that an issuer publishes as a
//! signed credential.
//!
//! Bit `i` is bit `7 - i % 8` of byte `i / 8` (index 0 is the most significant bit of the
//! first byte). A list holds at least 131,072 entries (16 KiB), so that one credential's
//! status does not reveal which credential a verifier is checking. GZIP output is not
//! canonical: compare decoded bits, never `encodedList` strings.

use flate2::{bufread::GzDecoder, write::GzEncoder, Compression};
use serde_json::{json, Map, Value};
use std::io::{Read, Write};

use crate::multibase;
use crate::time::Timestamp;
use crate::validation::{is_url, type_values};

/// The smallest list the spec allows, in entries.
pub const MIN_ENTRIES: usize = 131_072;
/// The largest decoded list this implementation accepts, in bits: 8,388,608 entries
/// (1 MiB), 64 times the spec's minimum. A 16 KiB GZIP stream can decode to 16 MiB, so
/// without a bound a handful of lists hold gigabytes.
pub const MAX_BITS: usize = 1 << 23;
/// The most decoded status-list bytes one verification holds in all (16 lists of the
/// largest size; a node's own lists are 16 KiB): lists past it are not decoded.
pub const MAX_DECODED_BYTES: usize = 16 << 20;

/// Why a status entry, list or list credential is refused. Each variant maps to a
/// Bitstring Status List error type, given by [`StatusListError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// A property has a value the spec forbids.
    #[error("{property}: {detail}")]
    Malformed {
        /// The property.
        property: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The index is beyond the end of the list.
    #[error("status list index {index} is beyond the list's {entries} entries")]
    Range {
        /// The entry's index.
        index: u64,
        /// Entries in the list.
        entries: usize,
    },
    /// The decoded list is shorter than the spec's minimum.
    #[error("status list has {entries} entries; at least {MIN_ENTRIES} are required")]
    Length {
        /// Entries in the list.
        entries: usize,
    },
    /// The list credential does not cover the entry's purpose.
    #[error("status list credential has purpose {list:?}, but the entry's purpose is {entry:?}")]
    Purpose {
        /// The entry's purpose.
        entry: String,
        /// The list's purposes.
        list: Vec<String>,
    },
    /// The list credential is not the one the entry names.
    #[error("the status list credential given is {given}, not {wanted}")]
    WrongList {
        /// What the entry names.
        wanted: String,
        /// What was given.
        given: String,
    },
}

impl StatusListError {
    /// The Bitstring Status List error type.
    pub fn code(&self) -> &'static str {
        match self {
            StatusListError::Malformed { .. } => "MALFORMED_VALUE_ERROR",
            StatusListError::Range { .. } => "RANGE_ERROR",
            StatusListError::Length { .. } => "STATUS_LIST_LENGTH_ERROR",
            StatusListError::Purpose { .. } | StatusListError::WrongList { .. } => {
                "STATUS_VERIFICATION_ERROR"
            }
        }
    }
}

fn malformed(property: &'static str, detail: impl Into<String>) -> StatusListError {
    StatusListError::Malformed {
        property,
        detail: detail.into(),
    }
}

/// A status purpose (`statusPurpose`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusPurpose {
    /// Permanently cancelled.
    Revocation,
    /// Temporarily not in effect; can be reinstated.
    Suspension,
    /// Any other purpose (`refresh`, `message`, …).
    Other(String),
}

impl StatusPurpose {
    /// Reads a purpose name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "revocation" => StatusPurpose::Revocation,
            "suspension" => StatusPurpose::Suspension,
            other => StatusPurpose::Other(other.into()),
        }
    }

    /// The purpose as written.
    pub fn as_str(&self) -> &str {
        match self {
            StatusPurpose::Revocation => "revocation",
            StatusPurpose::Suspension => "suspension",
            StatusPurpose::Other(s) => s,
        }
    }
}

impl std::fmt::Display for StatusPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A list of status bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
}

impl Bitstring {
    /// An all-zero list of at least `bits` bits, and never fewer than [`MIN_ENTRIES`].
    pub fn new(bits: usize) -> Self {
        let bits = bits.max(MIN_ENTRIES);
        Bitstring {
            bytes: vec![0; bits.div_ceil(8)],
        }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Whether the list has no bits (never, for a list built by [`Bitstring::new`]).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bit `index`, or `None` beyond the end.
    pub fn get(&self, index: usize) -> Option<bool> {
        let byte = self.bytes.get(index / 8)?;
        Some(byte >> (7 - index % 8) & 1 == 1)
    }

    /// Sets bit `index`; `false` if it is beyond the end.
    pub fn set(&mut self, index: usize, value: bool) -> bool {
        let Some(byte) = self.bytes.get_mut(index / 8) else {
            return false;
        };
        let mask = 1u8 << (7 - index % 8);
        if value {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        true
    }

    /// The `size`-bit status value at entry `index` (bits `index*size ..`), most
    /// significant bit first.
    pub fn value(&self, index: u64, size: u32) -> Option<u64> {
        let start = usize::try_from(index).ok()?.checked_mul(size as usize)?;
        (0..size as usize).try_fold(0u64, |acc, i| {
            self.get(start + i).map(|bit| (acc << 1) | u64::from(bit))
        })
    }

    /// Indices of the set bits, in order.
    pub fn set_bits(&self) -> impl Iterator<Item = usize> + '_ {
        self.bytes.iter().enumerate().flat_map(|(i, &byte)| {
            (0..8)
                .filter(move |b| byte >> (7 - b) & 1 == 1)
                .map(move |b| i * 8 + b)
        })
    }

    /// GZIP-compresses the list and encodes it as multibase base64url (`encodedList`).
    pub fn encode(&self) -> String {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&self.bytes)
            .expect("writing to a Vec cannot fail");
        let compressed = gz.finish().expect("writing to a Vec cannot fail");
        multibase::encode_base64url(&compressed)
    }

    /// Decodes an `encodedList`: multibase base64url, then GZIP.
    pub fn decode(encoded: &str) -> Result<Self, StatusListError> {
        let compressed = multibase::decode_base64url(encoded)
            .map_err(|e| malformed("encodedList", e.to_string()))?;
        // Lists are at least 16 KiB (131,072 bits) decompressed: no regrowing to get there.
        let mut bytes = Vec::with_capacity(MIN_ENTRIES / 8 + 1);
        GzDecoder::new(compressed.as_slice())
            .take((MAX_BITS / 8 + 1) as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| malformed("encodedList", format!("not GZIP data: {e}")))?;
        if bytes.len() > MAX_BITS / 8 {
            return Err(malformed(
                "encodedList",
                format!("decompresses to more than {MAX_BITS} bits"),
            ));
        }
        Ok(Bitstring { bytes })
    }
}

/// A credential's `BitstringStatusListEntry`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The entry's `id`, if any.
    pub id: Option<String>,
    /// What a set bit means.
    pub purpose: StatusPurpose,
    /// Position in the list.
    pub index: u64,
    /// URL of the status list credential.
    pub list_credential: String,
    /// Bits per entry (1 unless `statusSize` says otherwise).
    pub size: u32,
}

impl StatusEntry {
    /// Reads a `credentialStatus` object of type `BitstringStatusListEntry`.
    ///
    /// `Ok(None)` for a status object of another type (which this module does not check).
    pub fn parse(status: &Value) -> Result<Option<Self>, StatusListError> {
        let object = status
            .as_object()
            .ok_or_else(|| malformed("credentialStatus", "not an object"))?;
        if !type_values(object.get("type")).any(|t| t == "BitstringStatusListEntry") {
            return Ok(None);
        }
        let purpose = object
            .get("statusPurpose")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("statusPurpose", "missing or not a string"))?;
        let index = match object.get("statusListIndex") {
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse::<u64>()
                .map_err(|_| malformed("statusListIndex", format!("{s} is too large")))?,
            Some(other) => {
                return Err(malformed(
                    "statusListIndex",
                    format!("{other} is not a base-10 integer string"),
                ))
            }
            None => return Err(malformed("statusListIndex", "missing")),
        };
        let list_credential = object
            .get("statusListCredential")
            .and_then(Value::as_str)
            .filter(|s| is_url(s))
            .ok_or_else(|| malformed("statusListCredential", "missing or not a URL"))?;
        let id = match object.get("id") {
            None => None,
            Some(Value::String(id)) if is_url(id) && id != list_credential => Some(id.clone()),
            Some(_) => {
                return Err(malformed(
                    "credentialStatus.id",
                    "must be a URL other than the status list credential's",
                ))
            }
        };
        let size = match object.get("statusSize") {
            None => 1,
            Some(v) => v.as_u64().filter(|n| (1..=8).contains(n)).ok_or_else(|| {
                malformed("statusSize", format!("{v} is not an integer from 1 to 8"))
            })? as u32,
        };
        if size > 1 {
            let messages = object
                .get("statusMessage")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed("statusMessage", "required when statusSize > 1"))?;
            if messages.len() != 1 << size {
                return Err(malformed(
                    "statusMessage",
                    format!(
                        "{} messages where 2^statusSize = {} are required",
                        messages.len(),
                        1 << size
                    ),
                ));
            }
        }
        Ok(Some(StatusEntry {
            id,
            purpose: StatusPurpose::from_name(purpose),
            index,
            list_credential: list_credential.to_owned(),
            size,
        }))
    }

    /// The entry as a `credentialStatus` object.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(id) = &self.id {
            object.insert("id".into(), id.clone().into());
        }
        object.insert("type".into(), "BitstringStatusListEntry".into());
        object.insert("statusPurpose".into(), self.purpose.as_str().into());
        object.insert("statusListIndex".into(), self.index.to_string().into());
        object.insert(
            "statusListCredential".into(),
            self.list_credential.clone().into(),
        );
        Value::Object(object)
    }
}

/// A parsed `BitstringStatusListCredential` (its proof is checked separately).
#[derive(Debug, Clone)]
pub struct StatusListCredential {
    /// The credential's `id`.
    pub id: String,
    /// Its issuer.
    pub issuer: String,
    /// The purposes its bits serve.
    pub purposes: Vec<StatusPurpose>,
    /// When it became valid: the time as of which it states status.
    pub valid_from: Option<Timestamp>,
    /// When it stops being valid, if stated.
    pub valid_until: Option<Timestamp>,
    /// The bits.
    pub list: Bitstring,
}

/// The status of one entry, read from a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryStatus {
    /// The entry's purpose.
    pub purpose: StatusPurpose,
    /// The status value (0 or 1 for one-bit entries).
    pub value: u64,
    /// The list's `validFrom`: the time as of which this status holds.
    pub as_of: Option<Timestamp>,
}

impl EntryStatus {
    /// Whether the status bit is set (revoked, suspended, …).
    pub fn is_set(&self) -> bool {
        self.value != 0
    }
}

impl StatusListCredential {
    /// Reads a status list credential.
    pub fn parse(credential: &Value) -> Result<Self, StatusListError> {
        let object = credential
            .as_object()
            .ok_or_else(|| malformed("status list credential", "not an object"))?;
        if !type_values(object.get("type")).any(|t| t == "BitstringStatusListCredential") {
            return Err(malformed(
                "type",
                "the status list credential's type must include BitstringStatusListCredential",
            ));
        }
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("id", "a status list credential needs an id"))?;
        let issuer = match object.get("issuer") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => return Err(malformed("issuer", "missing")),
        };
        let subject = object
            .get("credentialSubject")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("credentialSubject", "must be one object"))?;
        if !type_values(subject.get("type")).any(|t| t == "BitstringStatusList") {
            return Err(malformed(
                "credentialSubject.type",
                "must include BitstringStatusList",
            ));
        }
        let purposes: Vec<StatusPurpose> = match subject.get("statusPurpose") {
            Some(Value::String(s)) => vec![StatusPurpose::from_name(s)],
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(StatusPurpose::from_name))
                .collect::<Option<_>>()
                .ok_or_else(|| malformed("statusPurpose", "must be strings"))?,
            _ => return Err(malformed("statusPurpose", "missing")),
        };
        let encoded = subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("encodedList", "missing or not a string"))?;
        let list = Bitstring::decode(encoded)?;
        if list.len() < MIN_ENTRIES {
            return Err(StatusListError::Length {
                entries: list.len(),
            });
        }
        let time = |p: &'static str| -> Result<Option<Timestamp>, StatusListError> {
            match object.get(p) {
                None => Ok(None),
                Some(v) => Timestamp::parse(v.as_str().unwrap_or_default())
                    .map(Some)
                    .map_err(|e| malformed(p, e.to_string())),
            }
        };
        Ok(StatusListCredential {
            id: id.to_owned(),
            issuer,
            purposes,
            valid_from: time("validFrom")?,
            valid_until: time("validUntil")?,
            list,
        })
    }

    /// Reads the status of `entry` from this list.
    pub fn status_of(&self, entry: &StatusEntry) -> Result<EntryStatus, StatusListError> {
        if entry.list_credential != self.id {
            return Err(StatusListError::WrongList {
                wanted: entry.list_credential.clone(),
                given: self.id.clone(),
            });
        }
        if !self.purposes.contains(&entry.purpose) {
            return Err(StatusListError::Purpose {
                entry: entry.purpose.to_string(),
                list: self.purposes.iter().map(ToString::to_string).collect(),
            });
        }
        let entries = self.list.len() / entry.size as usize;
        if entries < MIN_ENTRIES {
            return Err(StatusListError::Length { entries });
        }
        let value = self
            .list
            .value(entry.index, entry.size)
            .ok_or(StatusListError::Range {
                index: entry.index,
                entries,
            })?;
        Ok(EntryStatus {
            purpose: entry.purpose.clone(),
            value,
            as_of: self.valid_from,
        })
    }

    /// An unsigned `BitstringStatusListCredential` for `list`, valid from `valid_from`
    /// (the time as of which it states status) until `valid_until`.
    pub fn unsigned(
        id: &str,
        issuer: &str,
        purpose: &StatusPurpose,
        list: &Bitstring,
        valid_from: Timestamp,
        valid_until: Option<Timestamp>,
    ) -> Value {
        let mut credential = json!({
            "@context": [crate::validation::CREDENTIALS_V2],
            "id": id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer,
            "validFrom": valid_from.to_string(),
            "credentialSubject": {
                "id": format!("{id}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": purpose.as_str(),
                "encodedList": list.encode(),
            }
        });
        if let Some(until) = valid_until {
            credential["validUntil"] = until.to_string().into();
        }
        credential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_through_encoding() {
        let mut list = Bitstring::new(0);
        for i in [0, 7, 8, 1000, MIN_ENTRIES - 1] {
            assert!(list.set(i, true));
        }
        let decoded = Bitstring::decode(&list.encode()).unwrap();
        assert_eq!(
            decoded.set_bits().collect::<Vec<_>>(),
            [0, 7, 8, 1000, MIN_ENTRIES - 1]
        );
        assert!(!list.set(MIN_ENTRIES, true));
    }

    #[test]
    fn index_must_be_a_decimal_string() {
        for bad in [
            json!(23),
            json!("0x17"),
            json!(""),
            json!(true),
            json!("-1"),
        ] {
            let entry = json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                "statusListIndex": bad, "statusListCredential": "https://example.com/list"});
            let err = StatusEntry::parse(&entry).unwrap_err();
            assert_eq!(err.code(), "MALFORMED_VALUE_ERROR", "{bad}");
        }
    }

    #[test]
    fn gzip_bomb_is_refused() {
        let big = Bitstring {
            bytes: vec![0; MAX_BITS / 8 + 8],
        };
        assert!(Bitstring::decode(&big.encode()).is_err());
    }
}
