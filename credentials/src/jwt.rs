//! VC-JWT: credentials secured as a compact JWS instead of an embedded proof — Open
//! Badges 3.0 §8.2 (a JWT whose `vc` claim is the credential, with `iss`, `jti`, `sub`,
//! `nbf` and `exp` mirroring it) and VC-JOSE-COSE (the payload is the credential itself,
//! `application/vc+jwt`, also inside a presentation's `EnvelopedVerifiableCredential`).
//!
//! The JWS is checked with `jsonwebtoken` (RustCrypto backend): `EdDSA` (Ed25519),
//! `ES256`, `ES384`, `RS256` and the other RSA algorithms. The key comes from the header:
//! an embedded `jwk`, or a `kid` that is a DID URL resolvable offline (`did:key` for
//! Ed25519 and P-256, `did:jwk`) or a key registered with the verifier. A key that
//! cannot be found makes the report incomplete, never verified.

use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::report::{DocumentKind, Report};
use crate::time::Timestamp;
use crate::verify::{self, VerifyOptions};

/// The media type of a VC-JOSE-COSE credential in a `data:` URL.
pub const VC_JWT_MEDIA_TYPE: &str = "application/vc+jwt";

/// Whether `text` has the shape of a compact JWS: three base64url parts.
pub fn is_compact_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.trim().split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The JWS in an `EnvelopedVerifiableCredential`'s `id`
/// (`data:application/vc+jwt,<jws>`), if it is one.
pub fn enveloped_jws(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("data:")?;
    let (media, jws) = rest.split_once(',')?;
    let media = media.split(';').next().unwrap_or_default();
    (media == VC_JWT_MEDIA_TYPE || media == "application/jwt").then_some(jws)
}

/// Where the verifying key came from, and whom it stands for.
struct Key {
    decoding: DecodingKey,
    /// The DID (or registered id) the key belongs to, to compare with the issuer;
    /// `None` for an embedded JWK, which names nobody.
    controller: Option<String>,
    /// The embedded JWK, compared with an issuer that is a `did:jwk` or `did:key`.
    jwk: Option<Jwk>,
    /// How it was found, for the report.
    from: String,
}

/// Verifies a VC-JWT (either form), reporting like a Data Integrity credential: the
/// JWS, the claims against the credential, the issuer's binding to the key, and the
/// credential's data model, validity and status.
pub fn verify_jwt(token: &str, options: &VerifyOptions<'_>) -> Report {
    let token = token.trim();
    let mut report = Report::new(DocumentKind::Credential, options.at);
    let header = match jsonwebtoken::decode_header(token) {
        Ok(header) => header,
        Err(e) => {
            report.fail("jws", format!("the JWS header does not decode: {e}"));
            return report;
        }
    };
    let payload = match token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    {
        Some(Value::Object(map)) => Value::Object(map),
        _ => {
            report.fail("jws", "the JWS payload is not a JSON object");
            return report;
        }
    };
    // OB 3.0 §8.2: the credential is the `vc` claim; VC-JOSE-COSE: the payload itself.
    let (credential, claims) = match payload.get("vc") {
        Some(vc @ Value::Object(_)) => (vc.clone(), Some(&payload)),
        Some(_) => {
            report.fail("jws", "the vc claim is not an object");
            return report;
        }
        None => (payload.clone(), None),
    };
    let (mut model, _) = verify::check_model(&credential, options);
    report.id = model.id.take();
    report.types = std::mem::take(&mut model.types);
    report.issuer = model.issuer.take();
    for check in model.checks {
        report.push(check.check, check.outcome, check.reason);
    }
    if !model.complete {
        report.complete = false;
        report.verified = false;
    }

    let signer = match key_of(&header, options) {
        Err(KeyProblem::Unresolvable(reason)) => {
            report.unverifiable("jws", format!("{reason}, so the signature was not checked"));
            None
        }
        Err(KeyProblem::Bad(reason)) => {
            report.fail("jws", reason);
            None
        }
        Ok(key) => {
            match jsonwebtoken::decode::<Value>(token, &key.decoding, &signature_only(header.alg)) {
                Ok(_) => {
                    report.pass(
                        "jws",
                        format!(
                            "{:?} signature verifies with the key {}",
                            header.alg, key.from
                        ),
                    );
                    Some(key)
                }
                Err(e) => {
                    report.fail(
                        "jws",
                        format!("{:?} signature: {e} [PROOF_VERIFICATION_ERROR]", header.alg),
                    );
                    None
                }
            }
        }
    };
    if let Some(claims) = claims {
        claims_check(&mut report, claims, &credential);
    }
    let issuer = verify::party_id(credential.get("issuer")).map(str::to_owned);
    match (&signer, issuer.as_deref()) {
        (None, _) => report.unknown("issuer", "no signature verified, so no signer to compare"),
        (Some(_), None) => report.unknown("issuer", "the credential names no issuer"),
        (
            Some(Key {
                controller: Some(c),
                ..
            }),
            Some(issuer),
        ) if c == issuer => report.pass("issuer", format!("{issuer} signed it")),
        (Some(Key { jwk: Some(jwk), .. }), Some(issuer)) if jwk_is_issuers(jwk, issuer) => {
            report.pass("issuer", format!("the embedded key is {issuer}'s"))
        }
        (
            Some(Key {
                controller: Some(c),
                ..
            }),
            Some(issuer),
        ) if issuer.starts_with("did:") => report.fail(
            "issuer",
            format!("the JWS is signed by {c}, not by the issuer {issuer}"),
        ),
        (Some(_), Some(issuer)) => report.unknown(
            "issuer",
            format!("whether {issuer} controls the signing key cannot be established offline"),
        ),
    }
    verify::validity_status_checks(&mut report, &credential, issuer.as_deref(), options);
    report
}

/// jsonwebtoken checking the signature with `alg` and nothing else: the claims are
/// checked against the credential (and the verification time) by the caller.
fn signature_only(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    validation
}

/// OB 3.0 §8.2.4: the JWT's registered claims must agree with the credential.
fn claims_check(report: &mut Report, claims: &Value, credential: &Value) {
    let mut wrong = Vec::new();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let issuer = verify::party_id(credential.get("issuer")).map(str::to_owned);
    if let Some(iss) = text(claims.get("iss")) {
        if Some(&iss) != issuer.as_ref() {
            wrong.push(format!(
                "iss {iss:?} is not the issuer {:?}",
                issuer.as_deref().unwrap_or_default()
            ));
        }
    }
    if let Some(jti) = text(claims.get("jti")) {
        let id = text(credential.get("id"));
        if id.is_some() && Some(&jti) != id.as_ref() {
            wrong.push(format!(
                "jti {jti:?} is not the credential id {:?}",
                id.as_deref().unwrap_or_default()
            ));
        }
    }
    if let Some(sub) = text(claims.get("sub")) {
        let subject = credential
            .get("credentialSubject")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str);
        if subject.is_some() && subject != Some(sub.as_str()) {
            wrong.push(format!(
                "sub {sub:?} is not the credential subject {:?}",
                subject.unwrap_or_default()
            ));
        }
    }
    let time = |names: &[&str]| {
        names.iter().find_map(|n| {
            credential
                .get(*n)
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse(t).ok())
        })
    };
    for (claim, names) in [
        ("nbf", &["validFrom", "issuanceDate"][..]),
        ("exp", &["validUntil", "expirationDate"][..]),
    ] {
        let Some(value) = claims.get(claim) else {
            continue;
        };
        let Some(seconds) = value.as_i64() else {
            wrong.push(format!("{claim} is not a NumericDate"));
            continue;
        };
        match time(names) {
            Some(t) if t.unix_seconds() == seconds => {}
            Some(t) => wrong.push(format!(
                "{claim} {} is not the credential's {} {t}",
                Timestamp::from_unix_seconds(seconds),
                names[0]
            )),
            None => wrong.push(format!(
                "{claim} is set but the credential has no {}",
                names[0]
            )),
        }
    }
    if wrong.is_empty() {
        report.pass(
            "claims",
            "iss, jti, sub, nbf and exp agree with the credential",
        );
    } else {
        report.fail(
            "claims",
            format!("{} [MALFORMED_VALUE_ERROR]", wrong.join("; ")),
        );
    }
}

enum KeyProblem {
    /// The key is not available offline (a `did:web`, an unregistered URL).
    Unresolvable(String),
    /// The header or key is malformed.
    Bad(String),
}

fn key_of(header: &jsonwebtoken::Header, options: &VerifyOptions<'_>) -> Result<Key, KeyProblem> {
    if !matches!(
        header.alg,
        Algorithm::EdDSA
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    ) {
        return Err(KeyProblem::Bad(format!(
            "alg {:?} is not an asymmetric signature algorithm a credential may use",
            header.alg
        )));
    }
    if let Some(jwk) = &header.jwk {
        let decoding = DecodingKey::from_jwk(jwk)
            .map_err(|e| KeyProblem::Bad(format!("the header's jwk is not a usable key: {e}")))?;
        return Ok(Key {
            decoding,
            controller: None,
            jwk: Some(jwk.clone()),
            from: "embedded in the header (jwk)".into(),
        });
    }
    let Some(kid) = header.kid.as_deref() else {
        return Err(KeyProblem::Unresolvable(
            "the JWS header has neither a kid nor a jwk".into(),
        ));
    };
    let did = kid.split('#').next().unwrap_or(kid);
    if let Some(encoded) = did.strip_prefix("did:jwk:") {
        let jwk: Jwk = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| KeyProblem::Bad(format!("{did} does not hold a JWK")))?;
        let decoding = DecodingKey::from_jwk(&jwk)
            .map_err(|e| KeyProblem::Bad(format!("the key of {did}: {e}")))?;
        return Ok(Key {
            decoding,
            controller: Some(did.to_owned()),
            jwk: None,
            from: kid.to_owned(),
        });
    }
    if let Some(multibase) = did.strip_prefix("did:key:") {
        let bytes = crate::multibase::decode_base58btc(multibase)
            .map_err(|e| KeyProblem::Bad(format!("{did}: {e}")))?;
        let decoding = match bytes.as_slice() {
            [0xed, 0x01, key @ ..] if key.len() == 32 => DecodingKey::from_ed_components(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
            )
            .map_err(|e| KeyProblem::Bad(format!("{did}: {e}")))?,
            [0x80, 0x24, point @ ..] => {
                let key = p256::PublicKey::from_sec1_bytes(point)
                    .map_err(|_| KeyProblem::Bad(format!("{did} is not a P-256 point")))?;
                let point =
                    p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key, false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(KeyProblem::Bad(format!("{did} is not a P-256 point")));
                };
                let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
                DecodingKey::from_ec_components(&b64(x), &b64(y))
                    .map_err(|e| KeyProblem::Bad(format!("{did}: {e}")))?
            }
            _ => {
                return Err(KeyProblem::Unresolvable(format!(
                    "{did} is a did:key of a kind other than Ed25519 or P-256"
                )))
            }
        };
        return Ok(Key {
            decoding,
            controller: Some(did.to_owned()),
            jwk: None,
            from: kid.to_owned(),
        });
    }
    if let Ok(method) = options.keys.resolve(kid) {
        return Ok(Key {
            decoding: DecodingKey::from_ed_components(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(method.key.as_bytes()),
            )
            .map_err(|e| KeyProblem::Bad(format!("{kid}: {e}")))?,
            controller: Some(method.controller),
            jwk: None,
            from: format!("{kid} (registered)"),
        });
    }
    Err(KeyProblem::Unresolvable(format!(
        "the key {kid} cannot be resolved offline (register it with --known-key)"
    )))
}

/// Verifies a compact JWS signed by the key its header's `kid` names (a `did:key` or
/// `did:jwk` URL), as a holder proves possession of their key (an OpenID4VCI proof
/// JWT): returns the header and the claims, and the DID of the key. `typ` must be
/// `expected_typ` when given.
pub fn verify_did_signed(
    token: &str,
    expected_typ: Option<&str>,
) -> Result<(jsonwebtoken::Header, Value, String), String> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| format!("the header does not decode: {e}"))?;
    if let Some(typ) = expected_typ {
        if header.typ.as_deref() != Some(typ) {
            return Err(format!(
                "typ must be {typ:?}, not {:?}",
                header.typ.as_deref().unwrap_or("")
            ));
        }
    }
    if header.jwk.is_some() {
        return Err("the key must be named by a DID in kid, not embedded".into());
    }
    let keys = crate::proof::KnownKeys::default();
    let contexts = crate::jsonld::Contexts::default();
    let options = VerifyOptions::new(Timestamp::from_unix_seconds(0), &contexts, &keys);
    let key = match key_of(&header, &options) {
        Ok(key) => key,
        Err(KeyProblem::Unresolvable(reason) | KeyProblem::Bad(reason)) => return Err(reason),
    };
    let claims = jsonwebtoken::decode::<Value>(token, &key.decoding, &signature_only(header.alg))
        .map_err(|e| format!("the signature does not verify: {e}"))?
        .claims;
    let did = key.controller.unwrap_or_default();
    Ok((header, claims, did))
}

/// Whether an embedded JWK is the key of `issuer`, a `did:jwk` or an Ed25519 `did:key`:
/// the same key parameters (`crv`, `x`, `y`, `n`, `e`).
fn jwk_is_issuers(jwk: &Jwk, issuer: &str) -> bool {
    let params = |v: &Value| {
        ["kty", "crv", "x", "y", "n", "e"]
            .map(|p| v.get(p).and_then(Value::as_str).map(str::to_owned))
    };
    let Ok(embedded) = serde_json::to_value(jwk) else {
        return false;
    };
    let theirs = if let Some(encoded) = issuer.strip_prefix("did:jwk:") {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    } else if let Some(multibase) = issuer.strip_prefix("did:key:") {
        match crate::multibase::decode_base58btc(multibase)
            .ok()
            .as_deref()
        {
            Some([0xed, 0x01, key @ ..]) if key.len() == 32 => Some(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519",
                "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
            })),
            _ => None,
        }
    } else {
        None
    };
    theirs.is_some_and(|theirs| params(&theirs) == params(&embedded))
}
