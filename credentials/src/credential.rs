//! VC Data Model 2.0 types (<https://www.w3.org/TR/vc-data-model-2.0/>).
//!
//! These types read and build credentials; verification works on the JSON as given, so
//! that nothing a verifier was handed is dropped or reordered before it is checked. Every
//! struct keeps the properties it does not name in `extra`, and set-valued properties
//! remember whether they were one value or an array, so a credential survives a round
//! trip through these types unchanged (member order aside).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

use crate::time::{TimeError, Timestamp};

/// One value or an array of values, kept in the shape it was written in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// An array. (Tried first: a `serde_json::Value` would also read an array as `One`.)
    Many(Vec<T>),
    /// A single value.
    One(T),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }

    /// Iterates over the values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.as_slice().iter()
    }

    /// The first value, if any.
    pub fn first(&self) -> Option<&T> {
        self.as_slice().first()
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(v: Vec<T>) -> Self {
        OneOrMany::Many(v)
    }
}

impl OneOrMany<String> {
    /// Whether one of the strings equals `s` (e.g. a type).
    pub fn contains_str(&self, s: &str) -> bool {
        self.iter().any(|v| v == s)
    }
}

/// An XML Schema dateTimeStamp that keeps the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeStamp {
    text: String,
    instant: Timestamp,
}

impl DateTimeStamp {
    /// Parses a dateTimeStamp (an offset is required).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        Ok(DateTimeStamp {
            instant: Timestamp::parse(text)?,
            text: text.to_owned(),
        })
    }

    /// The instant.
    pub fn instant(&self) -> Timestamp {
        self.instant
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<Timestamp> for DateTimeStamp {
    fn from(instant: Timestamp) -> Self {
        DateTimeStamp {
            text: instant.to_string(),
            instant,
        }
    }
}

impl fmt::Display for DateTimeStamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for DateTimeStamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DateTimeStamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DateTimeStamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A `name` or `description`: a string, a language value object, or several of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LanguageString {
    /// A plain string.
    Plain(String),
    /// One language value object.
    Tagged(LanguageValue),
    /// Several values, e.g. one per language.
    Many(Vec<LanguageString>),
}

/// A language value object (`@value`, `@language`, `@direction`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageValue {
    /// The text.
    #[serde(rename = "@value")]
    pub value: String,
    /// BCP 47 language tag.
    #[serde(rename = "@language", skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Base direction, `ltr` or `rtl`.
    #[serde(rename = "@direction", skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
}

/// An issuer or holder: a URL, or an object with an `id` and more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Party {
    /// Just the URL.
    Url(String),
    /// An object whose `id` is the URL.
    Object(Box<PartyObject>),
}

impl Party {
    /// The party's id.
    pub fn id(&self) -> &str {
        match self {
            Party::Url(url) => url,
            Party::Object(object) => &object.id,
        }
    }
}

/// An issuer or holder written as an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyObject {
    /// The URL that identifies the party.
    pub id: String,
    /// Its types, if stated.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub types: Option<OneOrMany<String>>,
    /// A name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LanguageString>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LanguageString>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An object that must have a `type`: a status entry, schema, evidence, terms of use or
/// refresh service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedObject {
    /// Optional id (required for `credentialSchema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The type(s).
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A credential subject: an optional id and the claims made about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialSubject {
    /// Who or what the claims are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The claims.
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}

/// A VC 2.0 verifiable credential (with or without its proof).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// `@context`: the VC 2.0 context first, then others.
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// The credential's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; include `VerifiableCredential`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// A name for the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<LanguageString>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LanguageString>,
    /// Who issued it.
    pub issuer: Party,
    /// What it says about whom.
    pub credential_subject: OneOrMany<CredentialSubject>,
    /// When it becomes valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTimeStamp>,
    /// When it stops being valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTimeStamp>,
    /// Where to check revocation or suspension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<OneOrMany<TypedObject>>,
    /// Schemas the credential conforms to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_schema: Option<OneOrMany<TypedObject>>,
    /// Evidence for the claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<OneOrMany<TypedObject>>,
    /// Terms of use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_of_use: Option<OneOrMany<TypedObject>>,
    /// How to refresh the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_service: Option<OneOrMany<TypedObject>>,
    /// Data Integrity proof(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<OneOrMany<Map<String, Value>>>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A VC 2.0 verifiable presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presentation {
    /// `@context`: the VC 2.0 context first.
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// The presentation's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; include `VerifiablePresentation`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Who presents it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<Party>,
    /// The credentials presented, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifiable_credential: Option<OneOrMany<Value>>,
    /// Data Integrity proof(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<OneOrMany<Map<String, Value>>>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_properties_and_shapes_survive_a_round_trip() {
        let input = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", {"x": "https://example.com/x"}],
            "type": "VerifiableCredential",
            "issuer": {"id": "did:example:1", "name": {"@value": "Hub", "@language": "en"}, "x": 1},
            "credentialSubject": [{"id": "did:example:2", "x": {"deep": [1, 2.5, null]}}],
            "validFrom": "2010-01-01T19:23:24-05:00",
            "evidence": {"type": ["Evidence"], "narrative": "done"},
            "x": "kept"
        });
        let credential: Credential = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(credential.issuer.id(), "did:example:1");
        assert_eq!(
            credential
                .valid_from
                .as_ref()
                .unwrap()
                .instant()
                .to_string(),
            "2010-01-02T00:23:24Z"
        );
        assert_eq!(serde_json::to_value(&credential).unwrap(), input);
    }
}
