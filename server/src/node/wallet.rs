//! Badges into wallets (OpenID for Verifiable Credential Issuance 1.0, pre-authorized
//! code flow): a member asks for an offer of a badge they hold; their wallet trades the
//! offer's code for an access token, fetches a nonce, proves possession of its own key
//! (a JWT signed by a `did:key`), and receives a fresh badge of the same achievement,
//! `ldp_vc` signed `eddsa-rdfc-2022`, bound to that DID and logged like any other.
//!
//! Codes, access tokens and nonces are random, stored only as SHA-256, short-lived and
//! single-use.

use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::account::{digest, secret, Caller};
use super::badge::{CredentialKind, CredentialRecord};
use super::error::Thing;
use super::{now, read, write, Node, NodeError, NodeResult};

/// How long an offer's pre-authorized code can be redeemed.
pub const OFFER_VALIDITY: i64 = 10 * 60;
/// How long an access token works.
pub const TOKEN_VALIDITY: i64 = 5 * 60;
/// How long a nonce can be used.
pub const NONCE_VALIDITY: i64 = 5 * 60;
/// How far a proof JWT's `iat` may be from the node's clock.
const CLOCK_SKEW: i64 = 300;

/// The one credential configuration the node offers.
pub const CONFIGURATION: &str = "OpenBadgeCredential_ldp_vc";

/// The pre-authorized code grant type.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// An OpenID4VCI / OAuth error: its `error` code and a description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct WalletError {
    /// `invalid_grant`, `invalid_token`, `invalid_proof`, `invalid_nonce`, …
    pub code: &'static str,
    /// What was wrong.
    pub description: String,
    /// The HTTP status (400, or 401 for tokens).
    pub status: u16,
}

fn refuse(code: &'static str, description: impl Into<String>) -> WalletError {
    WalletError {
        code,
        description: description.into(),
        status: if code == "invalid_token" { 401 } else { 400 },
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Grant {
    /// The badge offered.
    badge: String,
    /// The member it was offered to.
    username: String,
    expires: Timestamp,
    used: bool,
}

/// A credential offer for a wallet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// `openid-credential-offer://?credential_offer=…`, for a QR code or a link.
    pub uri: String,
    /// The offer object itself.
    #[schema(value_type = Object)]
    pub credential_offer: Value,
    /// When the code expires.
    #[schema(value_type = String)]
    pub expires: Timestamp,
}

/// The record key of a secret of `kind` (code, token, nonce): kept only as its digest.
fn hashed(kind: &str, secret: &str) -> Vec<u8> {
    let mut key = kind.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&digest(secret));
    key
}

impl Node {
    /// The credential issuer identifier: the node's public URL.
    pub fn credential_issuer(&self) -> &str {
        self.public_url()
    }

    /// The issuer metadata (`/.well-known/openid-credential-issuer`).
    pub fn issuer_metadata(&self) -> Value {
        let base = self.public_url();
        json!({
            "credential_issuer": base,
            "credential_endpoint": format!("{base}/oid4vci/credential"),
            "nonce_endpoint": format!("{base}/oid4vci/nonce"),
            "display": [{"name": "Guildmark", "locale": "en"}],
            "credential_configurations_supported": {
                CONFIGURATION: {
                    "format": "ldp_vc",
                    "scope": "OpenBadgeCredential",
                    "cryptographic_binding_methods_supported": ["did:key", "did:jwk"],
                    "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                    "proof_types_supported": {
                        "jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}
                    },
                    "credential_definition": {
                        "@context": [
                            guildmark_credentials::validation::CREDENTIALS_V2,
                            guildmark_credentials::badge::OB_CONTEXT
                        ],
                        "type": ["VerifiableCredential", "OpenBadgeCredential"]
                    },
                    // OpenID4VCI 1.0 keeps display and claims here.
                    "credential_metadata": {
                        "display": [{"name": "Open Badge", "locale": "en"}]
                    }
                }
            }
        })
    }

    /// The OAuth authorization server metadata (RFC 8414): the node is its own.
    pub fn authorization_server_metadata(&self) -> Value {
        let base = self.public_url();
        json!({
            "issuer": base,
            "token_endpoint": format!("{base}/oid4vci/token"),
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "pre-authorized_grant_anonymous_access_supported": true,
            "response_types_supported": []
        })
    }

    /// An offer of badge `uuid` to the wallet of its holder (`caller`, who must be the
    /// member it was issued to).
    pub async fn offer_badge(&self, caller: Option<&Caller>, uuid: &str) -> NodeResult<Offer> {
        let Some(caller) = caller else {
            return Err(NodeError::Unauthenticated(super::error::AuthError::Missing));
        };
        let record = self.credential(uuid)?;
        let username = &caller.account().username;
        if record.kind != CredentialKind::Badge || record.account.as_deref() != Some(username) {
            return Err(NodeError::not_found(
                Thing::Credential,
                format!("{username} holds no badge {uuid}"),
            ));
        }
        let code = secret("");
        let expires = now().plus_seconds(OFFER_VALIDITY);
        let grant = Grant {
            badge: uuid.to_owned(),
            username: username.clone(),
            expires,
            used: false,
        };
        write(&self.trees.wallet, &hashed("code", &code), &grant)?;
        self.flush().await?;
        let credential_offer = json!({
            "credential_issuer": self.credential_issuer(),
            "credential_configuration_ids": [CONFIGURATION],
            "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}}
        });
        let uri = format!(
            "openid-credential-offer://?{}",
            serde_urlencoded::to_string([("credential_offer", credential_offer.to_string())])
                .unwrap_or_default()
        );
        Ok(Offer {
            uri,
            credential_offer,
            expires,
        })
    }

    /// The token endpoint: a pre-authorized code, once, for an access token.
    pub async fn redeem_code(&self, grant_type: &str, code: &str) -> Result<Value, WalletError> {
        if grant_type != PRE_AUTHORIZED_GRANT {
            return Err(refuse(
                "unsupported_grant_type",
                format!("only {PRE_AUTHORIZED_GRANT} is supported"),
            ));
        }
        let key = hashed("code", code);
        let _one_at_a_time = self.credential_ids.lock().await;
        let grant: Grant = read(&self.trees.wallet, &key)
            .ok()
            .flatten()
            .ok_or_else(|| refuse("invalid_grant", "unknown pre-authorized code"))?;
        if grant.used {
            return Err(refuse(
                "invalid_grant",
                "the pre-authorized code was already used",
            ));
        }
        if grant.expires <= now() {
            return Err(refuse(
                "invalid_grant",
                format!("the pre-authorized code expired at {}", grant.expires),
            ));
        }
        let token = secret("");
        let used = Grant {
            used: true,
            ..grant.clone()
        };
        let access = Grant {
            expires: now().plus_seconds(TOKEN_VALIDITY),
            used: false,
            ..grant
        };
        write(&self.trees.wallet, &key, &used).map_err(internal)?;
        write(&self.trees.wallet, &hashed("token", &token), &access).map_err(internal)?;
        self.flush().await.map_err(internal)?;
        Ok(json!({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_VALIDITY}))
    }

    /// The nonce endpoint: a fresh `c_nonce` for a proof of possession.
    pub async fn wallet_nonce(&self) -> Result<Value, WalletError> {
        let nonce = secret("");
        let expires = now().plus_seconds(NONCE_VALIDITY);
        write(&self.trees.wallet, &hashed("nonce", &nonce), &expires).map_err(internal)?;
        Ok(json!({"c_nonce": nonce, "c_nonce_expires_in": NONCE_VALIDITY}))
    }

    /// The credential endpoint: with a live access token and a proof JWT over a live
    /// nonce, for this issuer, signed by the wallet's `did:key`, a fresh badge bound to
    /// that DID. The token and the nonce are spent.
    pub async fn wallet_credential(
        &self,
        access_token: &str,
        request: &Value,
    ) -> Result<(CredentialRecord, Receipt), WalletError> {
        let token_key = hashed("token", access_token);
        let grant: Grant = read(&self.trees.wallet, &token_key)
            .ok()
            .flatten()
            .ok_or_else(|| refuse("invalid_token", "unknown access token"))?;
        if grant.used || grant.expires <= now() {
            return Err(refuse(
                "invalid_token",
                "the access token was used or has expired",
            ));
        }
        match request
            .get("credential_configuration_id")
            .and_then(Value::as_str)
        {
            Some(CONFIGURATION) => {}
            Some(other) => {
                return Err(refuse(
                    "unknown_credential_configuration",
                    format!("{other:?} is not offered; {CONFIGURATION} is"),
                ))
            }
            None => {
                return Err(refuse(
                    "invalid_credential_request",
                    "credential_configuration_id is required",
                ))
            }
        }
        let jwt = request
            .pointer("/proofs/jwt/0")
            .or_else(|| request.pointer("/proof/jwt"))
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("invalid_proof", "a jwt proof (proofs.jwt) is required"))?;
        let (_, claims, did) =
            guildmark_credentials::jwt::verify_did_signed(jwt, Some("openid4vci-proof+jwt"))
                .map_err(|e| refuse("invalid_proof", e))?;
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == self.credential_issuer(),
            Some(Value::Array(auds)) => auds.iter().any(|a| a == self.credential_issuer()),
            _ => false,
        };
        if !audience_ok {
            return Err(refuse(
                "invalid_proof",
                format!(
                    "aud must be the credential issuer {}",
                    self.credential_issuer()
                ),
            ));
        }
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(|| refuse("invalid_proof", "iat is required"))?;
        if (iat - now().unix_seconds()).abs() > CLOCK_SKEW {
            return Err(refuse("invalid_proof", "iat is too far from now"));
        }
        let nonce = claims.get("nonce").and_then(Value::as_str).ok_or_else(|| {
            refuse(
                "invalid_nonce",
                "the proof carries no nonce; get one from the nonce endpoint",
            )
        })?;
        let nonce_key = hashed("nonce", nonce);
        let _one_at_a_time = self.credential_ids.lock().await;
        let expires: Timestamp = read(&self.trees.wallet, &nonce_key)
            .ok()
            .flatten()
            .ok_or_else(|| refuse("invalid_nonce", "unknown or used nonce"))?;
        if expires <= now() {
            return Err(refuse("invalid_nonce", "the nonce has expired"));
        }
        if !did.starts_with("did:key:") && !did.starts_with("did:jwk:") {
            return Err(refuse(
                "invalid_proof",
                "the proof must be signed by a did:key or did:jwk",
            ));
        }
        // Spend the nonce and the token before issuing, so neither works twice.
        self.trees
            .wallet
            .remove(&nonce_key)
            .map_err(|e| internal(e.into()))?;
        let spent = Grant {
            used: true,
            ..grant.clone()
        };
        write(&self.trees.wallet, &token_key, &spent).map_err(internal)?;
        drop(_one_at_a_time);
        let original = self.credential(&grant.badge).map_err(internal)?;
        let account = self
            .account(&grant.username)
            .map_err(internal)?
            .ok_or_else(|| refuse("invalid_token", "the account behind this offer is gone"))?;
        self.wallet_badge(&account, &original, &did)
            .await
            .map_err(|e| match e {
                NodeError::Conflict { .. } | NodeError::NotFound { .. } => {
                    refuse("credential_request_denied", e.to_string())
                }
                other => internal(other),
            })
    }
}

fn internal(error: NodeError) -> WalletError {
    tracing::error!(%error, "wallet issuance");
    WalletError {
        code: "server_error",
        description: "the node could not complete the request; the cause is in its log".into(),
        status: 500,
    }
}
