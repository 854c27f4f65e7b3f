//! Open Badges 3.0 (<https://www.imsglobal.org/spec/ob/v3p0/>): badge credentials,
//! achievements, profiles and endorsements, and the Open Badges rules a verifier checks
//! on top of the VC data model.
//!
//! Set-valued properties use [`OneOrMany`] so that credentials written either way read and
//! round-trip; Guildmark's builders always write arrays (for `type` and `proof` too),
//! which the 1EdTech JSON schema requires.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::credential::{DateTimeStamp, OneOrMany, TypedObject};
use crate::validation::{type_values, DataModelError, JsonPath};

/// The Open Badges 3.0 JSON-LD context Guildmark writes.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Every published Open Badges 3.0 context URL (a credential must use one of them).
pub const OB_CONTEXTS: &[&str] = &[
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
];

fn types(names: &[&str]) -> OneOrMany<String> {
    OneOrMany::Many(names.iter().map(|s| (*s).to_owned()).collect())
}

/// An issuer, creator or endorser (`Profile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// URL or DID of the profile.
    pub id: String,
    /// Types; include `Profile`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Contact address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Logo or picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Profile {
    /// A profile with an id and a name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Profile {
            id: id.into(),
            types: types(&["Profile"]),
            name: Some(name.into()),
            url: None,
            description: None,
            email: None,
            image: None,
            extra: Map::new(),
        }
    }
}

/// An image (`Image`): a URL or data URL, with a caption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// URL or `data:` URL of the image.
    pub id: String,
    /// `Image`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Image {
    /// An image at a URL.
    pub fn new(id: impl Into<String>) -> Self {
        Image {
            id: id.into(),
            type_: "Image".into(),
            caption: None,
            extra: Map::new(),
        }
    }
}

/// How an achievement is earned (`Criteria`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Criteria {
    /// URL of a page describing the criteria.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The criteria, in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A link to a framework, standard or competency (`Alignment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alignment {
    /// Types; include `Alignment`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name of the aligned item.
    pub target_name: String,
    /// URL of the aligned item.
    pub target_url: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_description: Option<String>,
    /// Code in the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_code: Option<String>,
    /// Framework name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_framework: Option<String>,
    /// Kind of target (`ceasn:Competency`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What results an achievement records (`ResultDescription`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultDescription {
    /// Id, referenced by results.
    pub id: String,
    /// Types; include `ResultDescription`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name.
    pub name: String,
    /// `GradePointAverage`, `LetterGrade`, `Percent`, `Result`, `ScaledScore`, …
    pub result_type: String,
    /// Ordered allowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_value: Option<Vec<String>>,
    /// Value required to earn the achievement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_value: Option<String>,
    /// Maximum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_max: Option<String>,
    /// Minimum value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_min: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A result the earner obtained (`Result` in the spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Result {
    /// Types; include `Result`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// The `ResultDescription` this result is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_description: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `Completed`, `Enrolled`, `Failed`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A badge class (`Achievement`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Achievement {
    /// URL of the achievement.
    pub id: String,
    /// Types; include `Achievement`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// How it is earned.
    pub criteria: Criteria,
    /// Badge image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// `Badge`, `Certificate`, `Competency`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement_type: Option<String>,
    /// Who defined it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Profile>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<Vec<String>>,
    /// Alignments to frameworks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<Vec<Alignment>>,
    /// Results it records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_description: Option<Vec<ResultDescription>>,
    /// Short code, e.g. `SOLDER-L1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_code: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Achievement {
    /// An achievement with the required properties.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
        criteria: impl Into<String>,
    ) -> Self {
        Achievement {
            id: id.into(),
            types: types(&["Achievement"]),
            name: name.into(),
            description: description.into(),
            criteria: Criteria {
                id: None,
                narrative: Some(criteria.into()),
                extra: Map::new(),
            },
            image: None,
            achievement_type: None,
            creator: None,
            tag: None,
            alignment: None,
            result_description: None,
            human_code: None,
            extra: Map::new(),
        }
    }
}

/// A hashed or plain identifier of the earner (`IdentityObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityObject {
    /// `IdentityObject`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Whether `identity_hash` is hashed.
    pub hashed: bool,
    /// The identifier or its hash.
    pub identity_hash: String,
    /// `emailAddress`, `identifier`, …
    pub identity_type: String,
    /// Salt of the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Who earned what (`AchievementSubject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AchievementSubject {
    /// The earner (Guildmark: the member's holder did:key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; include `AchievementSubject`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// The achievement earned.
    pub achievement: Achievement,
    /// Other identifiers of the earner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Vec<IdentityObject>>,
    /// Results obtained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Vec<Result>>,
    /// How it was earned, in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Evidence that the achievement was earned (`Evidence`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// URL of the evidence (Guildmark: a hash-addressed upload or a link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Types; include `Evidence`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// What the evidence shows, in Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kind of evidence (`photo`, `assessment`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Evidence {
    /// A narrative piece of evidence.
    pub fn narrative(text: impl Into<String>) -> Self {
        Evidence {
            id: None,
            types: types(&["Evidence"]),
            narrative: Some(text.into()),
            name: None,
            description: None,
            genre: None,
            extra: Map::new(),
        }
    }
}

/// An Open Badges 3.0 badge (`OpenBadgeCredential`, alias `AchievementCredential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenBadgeCredential {
    /// Contexts: VC 2.0, then Open Badges 3.0.
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// URL of the credential.
    pub id: String,
    /// Types; include `VerifiableCredential` and `OpenBadgeCredential`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name of the credential (usually the achievement's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The issuing community.
    pub issuer: Profile,
    /// When it became valid.
    pub valid_from: DateTimeStamp,
    /// When it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTimeStamp>,
    /// The earner and the achievement.
    pub credential_subject: AchievementSubject,
    /// Evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<OneOrMany<Evidence>>,
    /// Status entry (Bitstring Status List).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<OneOrMany<TypedObject>>,
    /// Schemas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_schema: Option<OneOrMany<TypedObject>>,
    /// Embedded endorsements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement: Option<Vec<Value>>,
    /// Proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<OneOrMany<Map<String, Value>>>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OpenBadgeCredential {
    /// An unsigned badge with the required properties, in the schema's array shapes.
    pub fn new(
        id: impl Into<String>,
        issuer: Profile,
        valid_from: DateTimeStamp,
        recipient: impl Into<String>,
        achievement: Achievement,
    ) -> Self {
        OpenBadgeCredential {
            context: OneOrMany::Many(vec![
                crate::validation::CREDENTIALS_V2.into(),
                OB_CONTEXT.into(),
            ]),
            id: id.into(),
            types: types(&["VerifiableCredential", "OpenBadgeCredential"]),
            name: Some(achievement.name.clone()),
            description: None,
            issuer,
            valid_from,
            valid_until: None,
            credential_subject: AchievementSubject {
                id: Some(recipient.into()),
                types: types(&["AchievementSubject"]),
                achievement,
                identifier: None,
                result: None,
                narrative: None,
                extra: Map::new(),
            },
            evidence: None,
            credential_status: None,
            credential_schema: None,
            endorsement: None,
            proof: None,
            extra: Map::new(),
        }
    }
}

/// What an endorsement is about (`EndorsementSubject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndorsementSubject {
    /// The endorsed thing: a credential, achievement or profile id.
    pub id: String,
    /// Types; include `EndorsementSubject`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// What the endorser says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement_comment: Option<String>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An endorsement (`EndorsementCredential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndorsementCredential {
    /// Contexts: VC 2.0, then Open Badges 3.0.
    #[serde(rename = "@context")]
    pub context: OneOrMany<Value>,
    /// URL of the endorsement.
    pub id: String,
    /// Types; include `VerifiableCredential` and `EndorsementCredential`.
    #[serde(rename = "type")]
    pub types: OneOrMany<String>,
    /// Name.
    pub name: String,
    /// The endorser.
    pub issuer: Profile,
    /// When it became valid.
    pub valid_from: DateTimeStamp,
    /// What is endorsed, and the comment.
    pub credential_subject: EndorsementSubject,
    /// Status entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_status: Option<OneOrMany<TypedObject>>,
    /// Proofs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<OneOrMany<Map<String, Value>>>,
    /// Every other property.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EndorsementCredential {
    /// An unsigned endorsement of `subject` by `endorser`.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        endorser: Profile,
        valid_from: DateTimeStamp,
        subject: impl Into<String>,
        comment: Option<String>,
    ) -> Self {
        EndorsementCredential {
            context: OneOrMany::Many(vec![
                crate::validation::CREDENTIALS_V2.into(),
                OB_CONTEXT.into(),
            ]),
            id: id.into(),
            types: types(&["VerifiableCredential", "EndorsementCredential"]),
            name: name.into(),
            issuer: endorser,
            valid_from,
            credential_subject: EndorsementSubject {
                id: subject.into(),
                types: types(&["EndorsementSubject"]),
                endorsement_comment: comment,
                extra: Map::new(),
            },
            credential_status: None,
            proof: None,
            extra: Map::new(),
        }
    }
}

/// Which Open Badges class a credential claims to be, if any.
pub fn badge_kind(document: &Value) -> Option<&'static str> {
    let mut kinds = type_values(document.get("type"));
    kinds.find_map(|t| match t {
        "OpenBadgeCredential" | "AchievementCredential" => Some("OpenBadgeCredential"),
        "EndorsementCredential" => Some("EndorsementCredential"),
        _ => None,
    })
}

/// Checks the Open Badges 3.0 rules on top of the VC data model: an Open Badges
/// context; an issuer `Profile`; an `AchievementSubject` with an identified earner and a
/// complete `Achievement`; typed evidence, results and identifiers (the 1EdTech
/// validator's context, issuer, subject and evidence probes).
pub fn validate(document: &Value) -> std::result::Result<(), Vec<DataModelError>> {
    let mut errors = Vec::new();
    let root = JsonPath::root();
    let Some(map) = document.as_object() else {
        return Err(vec![DataModelError::NotAnObject { path: root }]);
    };
    let contexts: Vec<&str> = match map.get("@context") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => vec![],
    };
    if !contexts.iter().any(|c| OB_CONTEXTS.contains(c)) {
        errors.push(DataModelError::MissingType {
            path: root.key("@context"),
            required: "an Open Badges 3.0 context",
        });
    }
    let issued = if crate::validation::is_vcdm1(map) {
        "issuanceDate"
    } else {
        "validFrom"
    };
    if map.get(issued).is_none() {
        errors.push(DataModelError::Missing {
            path: root.key(issued),
        });
    }
    match map.get("issuer") {
        Some(Value::Object(issuer)) => profile_rules(issuer, &root.key("issuer"), &mut errors),
        _ => errors.push(DataModelError::NotAnObject {
            path: root.key("issuer"),
        }),
    }
    let subject_path = root.key("credentialSubject");
    let Some(Value::Object(subject)) = map.get("credentialSubject") else {
        errors.push(DataModelError::NotAnObject { path: subject_path });
        return Err(errors);
    };
    if badge_kind(document) == Some("EndorsementCredential") {
        require_type(subject, "EndorsementSubject", &subject_path, &mut errors);
        if subject.get("id").and_then(Value::as_str).is_none() {
            errors.push(DataModelError::Missing {
                path: subject_path.key("id"),
            });
        }
    } else {
        require_type(subject, "AchievementSubject", &subject_path, &mut errors);
        if subject.get("id").is_none() && subject.get("identifier").is_none() {
            errors.push(DataModelError::Missing {
                path: subject_path.key("id"),
            });
        }
        typed_items(
            subject.get("identifier"),
            "IdentityObject",
            &subject_path.key("identifier"),
            &mut errors,
        );
        typed_items(
            subject.get("result"),
            "Result",
            &subject_path.key("result"),
            &mut errors,
        );
        let achievement_path = subject_path.key("achievement");
        match subject.get("achievement") {
            Some(Value::Object(achievement)) => {
                require_type(achievement, "Achievement", &achievement_path, &mut errors);
                for property in ["id", "name", "description", "criteria"] {
                    if achievement.get(property).is_none() {
                        errors.push(DataModelError::Missing {
                            path: achievement_path.key(property),
                        });
                    }
                }
                typed_items(
                    achievement.get("resultDescription"),
                    "ResultDescription",
                    &achievement_path.key("resultDescription"),
                    &mut errors,
                );
                if let Some(Value::Object(creator)) = achievement.get("creator") {
                    profile_rules(creator, &achievement_path.key("creator"), &mut errors);
                }
            }
            _ => errors.push(DataModelError::Missing {
                path: achievement_path,
            }),
        }
    }
    typed_items(
        map.get("evidence"),
        "Evidence",
        &root.key("evidence"),
        &mut errors,
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn profile_rules(profile: &Map<String, Value>, path: &JsonPath, errors: &mut Vec<DataModelError>) {
    require_type(profile, "Profile", path, errors);
    typed_items(
        profile.get("otherIdentifier"),
        "IdentifierEntry",
        &path.key("otherIdentifier"),
        errors,
    );
    if let Some(Value::Object(parent)) = profile.get("parentOrg") {
        require_type(parent, "Profile", &path.key("parentOrg"), errors);
    }
}

fn require_type(
    object: &Map<String, Value>,
    required: &'static str,
    path: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    if !type_values(object.get("type")).any(|t| t == required) {
        errors.push(DataModelError::MissingType {
            path: path.key("type"),
            required,
        });
    }
}

fn typed_items(
    value: Option<&Value>,
    required: &'static str,
    path: &JsonPath,
    errors: &mut Vec<DataModelError>,
) {
    let Some(value) = value else { return };
    for (i, item) in crate::validation::as_items(value).iter().enumerate() {
        let item_path = if value.is_array() {
            path.index(i)
        } else {
            path.clone()
        };
        match item.as_object() {
            Some(object) => require_type(object, required, &item_path, errors),
            None => errors.push(DataModelError::NotAnObject { path: item_path }),
        }
    }
}
