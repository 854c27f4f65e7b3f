//! `ecdsa-sd-2023` derived proofs: the W3C vc-di-ecdsa test vectors (`employ`, `prc`)
//! verify; a changed disclosed value, a dropped statement and a base proof do not.

use guildmark_credentials::ecdsa_sd::{verify_derived, SdError};
use serde_json::Value;

use crate::common::{contexts, read_json};

fn proof(document: &Value) -> serde_json::Map<String, Value> {
    document["proof"].as_object().unwrap().clone()
}

#[test]
fn the_w3c_derived_proofs_verify_and_changes_are_caught() {
    let contexts = contexts();
    let mut checked = 0;
    for (case, mandatory, disclosed) in [("employ", 4, 6), ("prc", 0, 0)] {
        let dir = format!("vc-di-ecdsa/TestVectors/ecdsa-sd-2023/{case}");
        let derived = read_json(&format!("{dir}/derivedRevealDocument.json"));
        let verified = verify_derived(&derived, &proof(&derived), &contexts)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(verified.controller.starts_with("did:key:zDna"), "{case}");
        if case == "employ" {
            // The counts the vector's verifyCreateVerifyData gives.
            assert_eq!(
                (verified.mandatory, verified.disclosed),
                (mandatory, disclosed)
            );
        }
        // A disclosed value changed.
        let text = derived.to_string();
        let changed_text = if case == "employ" {
            text.replace("Bahamas", "Bermuda")
        } else {
            text.replacen("\"validFrom\":\"", "\"validFrom\":\"1", 1)
        };
        assert_ne!(changed_text, text, "{case}");
        let changed: Value = serde_json::from_str(&changed_text).unwrap();
        assert!(
            verify_derived(&changed, &proof(&changed), &contexts).is_err(),
            "{case}: a changed value verified"
        );
        // The base proof is the holder's, not for verifiers.
        let base = read_json(&format!("{dir}/addSignedSDBase.json"));
        assert_eq!(
            verify_derived(&base, &proof(&base), &contexts),
            Err(SdError::BaseProof),
            "{case}"
        );
        checked += 1;
    }
    // Dropping a disclosed statement leaves a signature without its statement.
    let derived =
        read_json("vc-di-ecdsa/TestVectors/ecdsa-sd-2023/employ/derivedRevealDocument.json");
    let mut dropped = derived.clone();
    dropped["credentialSubject"]
        .as_object_mut()
        .unwrap()
        .remove("birthCountry");
    assert!(matches!(
        verify_derived(&dropped, &proof(&dropped), &contexts),
        Err(SdError::ProofValue(_) | SdError::StatementSignature(_) | SdError::BaseSignature)
    ));
    assert_eq!(checked, 2);
}
