//! A batch registered by its producing community, as a credential: the product, the
//! protocol it is to be reviewed under, the lot size and serial numbers, signed with the
//! community's key. Reviewers' attestations name the batch by the subject's `id`.

use guildmark_credentials::jsonld::GUILDMARK_CONTEXT;
use guildmark_credentials::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::attestation::ProtocolReference;
use crate::evaluation::Batch;
use crate::serials::{self, SerialError};

/// The credential type of a registered batch.
pub const BATCH_CREDENTIAL_TYPE: &str = "ProductBatchCredential";

/// The type of its subject.
pub const BATCH_TYPE: &str = "ProductBatch";

/// Why a credential is not a well-formed batch registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The credential's `type` lacks `ProductBatchCredential`.
    #[error("not a batch registration (type lacks {BATCH_CREDENTIAL_TYPE})")]
    NotABatch,
    /// A field is missing or malformed.
    #[error("credentialSubject: {0}")]
    Subject(String),
    /// The serial numbers do not expand, or do not match the lot size.
    #[error(transparent)]
    Serials(#[from] SerialError),
}

/// What a producer states about a batch: the registration's `credentialSubject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchRegistration {
    /// The batch's URL.
    pub id: String,
    /// `ProductBatch`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The product, e.g. "MPPT20 12/24 V 20 A solar charge controller".
    pub product: String,
    /// The protocol the batch is to be reviewed under.
    pub protocol: ProtocolReference,
    /// Units in the lot.
    pub lot_size: u64,
    /// Serial numbers and ranges (`MPPT20-2026-0001..0050`), as the producer wrote them.
    pub serials: Vec<String>,
    /// When the lot was produced (`YYYY-MM-DD`).
    pub production_date: String,
    /// Anything else the producer wants reviewers and buyers to know.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<String>,
}

impl BatchRegistration {
    /// The unsigned credential, issued by the producing community's DID.
    pub fn to_credential(&self, id: &str, producer: &str, valid_from: Timestamp) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/credentials/v2", GUILDMARK_CONTEXT],
            "id": id,
            "type": ["VerifiableCredential", BATCH_CREDENTIAL_TYPE],
            "issuer": producer,
            "validFrom": valid_from.to_rfc3339(),
            "name": format!("Batch of {} × {}", self.lot_size, self.product),
            "credentialSubject": self,
        })
    }

    /// Reads the registration a credential states (its shape, not its proof).
    pub fn from_credential(document: &Value) -> Result<BatchRegistration, RegistrationError> {
        let is_batch = match document.get("type") {
            Some(Value::Array(types)) => types.iter().any(|t| t == BATCH_CREDENTIAL_TYPE),
            _ => false,
        };
        if !is_batch {
            return Err(RegistrationError::NotABatch);
        }
        let subject = document
            .get("credentialSubject")
            .ok_or_else(|| RegistrationError::Subject("missing".into()))?;
        let registration = BatchRegistration::deserialize(subject)
            .map_err(|e| RegistrationError::Subject(e.to_string()))?;
        if registration.type_ != BATCH_TYPE {
            return Err(RegistrationError::Subject(format!(
                "type is {:?}, not {BATCH_TYPE:?}",
                registration.type_
            )));
        }
        registration.check_date()?;
        Ok(registration)
    }

    /// The batch facts evaluation needs, with the serials expanded; `producer` is the
    /// registering community (the credential's issuer).
    pub fn to_batch(&self, producer: &str) -> Result<Batch, RegistrationError> {
        let serials = serials::expand(&self.serials)?;
        if serials.len() as u64 != self.lot_size {
            return Err(RegistrationError::Serials(SerialError(format!(
                "the lot size is {} but the serials name {} units",
                self.lot_size,
                serials.len()
            ))));
        }
        Ok(Batch {
            id: self.id.clone(),
            producer: producer.to_owned(),
            product: Some(self.product.clone()),
            protocol: self.protocol.digest,
            lot_size: self.lot_size,
            serials,
        })
    }

    /// Checks that `productionDate` is a calendar date.
    pub fn check_date(&self) -> Result<(), RegistrationError> {
        let date = &self.production_date;
        let ok = date.len() == 10 && Timestamp::parse(&format!("{date}T00:00:00Z")).is_ok();
        if ok {
            Ok(())
        } else {
            Err(RegistrationError::Subject(format!(
                "productionDate {date:?} is not a date (YYYY-MM-DD)"
            )))
        }
    }
}
