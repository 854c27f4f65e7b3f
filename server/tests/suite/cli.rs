//! `guildmark keygen`, `sign` and `verify` as a user runs them.

use crate::common::{guildmark, vectors};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt as _;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["keygen", "--help"],
        &["sign", "--help"],
        &["verify", "--help"],
        &["protocol", "check", "--help"],
        &["protocol", "evaluate", "--help"],
    ] {
        let run = guildmark(dir.path(), args, None).expect(0);
        assert!(run.stdout.contains("Usage"), "{args:?}: {}", run.stdout);
    }
    guildmark(dir.path(), &["no-such-command"], None).expect(2);
}

#[test]
fn keygen_writes_a_private_key_file_and_prints_the_did() {
    let dir = tempfile::tempdir().unwrap();
    let run = guildmark(dir.path(), &["keygen", "--out", "me.key"], None).expect(0);
    let did = run.stdout.trim();
    assert!(did.starts_with("did:key:z6Mk"), "{did}");
    let path = dir.path().join("me.key");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let file = json(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(file["controller"], did);
    assert!(file["secretKeyMultibase"]
        .as_str()
        .unwrap()
        .starts_with("z3u2"));
    // Never overwritten by accident.
    let before = std::fs::read_to_string(&path).unwrap();
    let again = guildmark(dir.path(), &["keygen", "--out", "me.key"], None).expect(2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "the key file is unchanged"
    );
}

#[test]
fn sign_reproduces_the_w3c_vectors_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let tv = vectors().join("vc-di-eddsa/TestVectors");
    let key = tv.join("keyPair.json");
    let unsigned = tv.join("unsigned.json");
    let contexts = vectors().join("contexts");
    for (suite, expected) in [
        ("eddsa-jcs-2022", "eddsa-jcs-2022/signedJCS.json"),
        ("eddsa-rdfc-2022", "eddsa-rdfc-2022/signedDataInt.json"),
    ] {
        let run = guildmark(
            dir.path(),
            &[
                "sign",
                "--key",
                key.to_str().unwrap(),
                "--suite",
                suite,
                "--created",
                "2023-02-24T23:36:38Z",
                "--contexts",
                contexts.to_str().unwrap(),
                unsigned.to_str().unwrap(),
            ],
            None,
        )
        .expect(0);
        let expected = json(&std::fs::read_to_string(tv.join(expected)).unwrap());
        assert_eq!(json(&run.stdout), expected, "{suite}");
    }
}

#[test]
fn sign_then_verify_with_stdin_proof_sets_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = guildmark(dir.path(), &["keygen", "--out", "issuer.key"], None).expect(0);
    let issuer = issuer.stdout.trim().to_owned();
    guildmark(dir.path(), &["keygen", "--out", "witness.key"], None).expect(0);
    let credential = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada", "name": "Ada"}
    })
    .to_string();
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "issuer.key"],
        Some(credential.as_bytes()),
    )
    .expect(0);
    // A second signature joins the proof set; both must verify.
    let both = guildmark(
        dir.path(),
        &["sign", "--key", "witness.key", "-"],
        Some(signed.stdout.as_bytes()),
    )
    .expect(0);
    assert_eq!(json(&both.stdout)["proof"].as_array().unwrap().len(), 2);
    let ok = guildmark(
        dir.path(),
        &["verify", "--at", "2026-06-01T00:00:00Z"],
        Some(both.stdout.as_bytes()),
    )
    .expect(0);
    assert!(ok.stdout.contains("VERIFIED"), "{}", ok.stdout);

    let tampered = both.stdout.replace("Ada", "Eve");
    let bad = guildmark(dir.path(), &["verify", "--json"], Some(tampered.as_bytes())).expect(1);
    let report = json(&bad.stdout);
    assert_eq!(report["verified"], false);
    assert_eq!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["outcome"] == "failed")
            .count(),
        2
    );

    // Before validFrom, the validity check fails.
    guildmark(
        dir.path(),
        &["verify", "--at", "2025-06-01T00:00:00Z"],
        Some(signed.stdout.as_bytes()),
    )
    .expect(1);
}

/// `guildmark verify a b c`: one line per document, a summary, exit 1 if any failed or
/// could not be read; `--json` gives the same as one object.
#[test]
fn verify_takes_many_documents_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = guildmark(dir.path(), &["keygen", "--out", "issuer.key"], None).expect(0);
    let issuer = issuer.stdout.trim().to_owned();
    for (file, name) in [("ada.json", "Ada"), ("bo.json", "Bo")] {
        let credential = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": issuer,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:x", "name": name}
        })
        .to_string();
        let signed = guildmark(
            dir.path(),
            &["sign", "--key", "issuer.key", "--suite", "eddsa-rdfc-2022"],
            Some(credential.as_bytes()),
        )
        .expect(0);
        std::fs::write(dir.path().join(file), &signed.stdout).unwrap();
    }
    let at = ["verify", "--at", "2026-06-01T00:00:00Z"];
    let good = guildmark(
        dir.path(),
        &[&at[..], &["ada.json", "bo.json"]].concat(),
        None,
    )
    .expect(0);
    assert!(
        good.stdout
            .contains("verified    ada.json\nverified    bo.json\n"),
        "{}",
        good.stdout
    );
    assert!(
        good.stdout
            .contains("2 documents: 2 verified, 0 failed, 0 not fully verified, 0 unreadable"),
        "{}",
        good.stdout
    );

    let tampered = std::fs::read_to_string(dir.path().join("bo.json"))
        .unwrap()
        .replace("\"Bo\"", "\"Eve\"");
    std::fs::write(dir.path().join("eve.json"), tampered).unwrap();
    let files = ["ada.json", "eve.json", "missing.json"];
    let mixed = guildmark(dir.path(), &[&at[..], &files[..]].concat(), None).expect(1);
    let lines: Vec<&str> = mixed.stdout.lines().collect();
    assert_eq!(lines[0], "verified    ada.json", "{}", mixed.stdout);
    assert!(
        lines[1].starts_with("failed      eve.json: proof: ")
            && lines[1].contains("the signature does not verify"),
        "{}",
        mixed.stdout
    );
    assert!(
        lines[2].starts_with("unreadable  missing.json: reading missing.json"),
        "{}",
        mixed.stdout
    );
    assert!(
        lines[3]
            .starts_with("3 documents: 1 verified, 1 failed, 0 not fully verified, 1 unreadable"),
        "{}",
        mixed.stdout
    );

    let as_json = guildmark(
        dir.path(),
        &[&at[..], &["--json"], &files[..]].concat(),
        None,
    )
    .expect(1);
    let out = json(&as_json.stdout);
    assert_eq!(out["summary"]["verified"], 1);
    assert_eq!(out["summary"]["failed"], 1);
    assert_eq!(out["summary"]["unreadable"], 1);
    assert_eq!(out["documents"][1]["report"]["verified"], false);
    assert!(out["documents"][2]["error"]
        .as_str()
        .unwrap()
        .contains("missing.json"));
}

/// What could not be checked is never "VERIFIED": a presentation carrying an enveloped
/// credential Guildmark cannot open (COSE, SD-JWT), a proof in an unknown
/// cryptosuite, a proof set with one such proof beside a good one, and a context the
/// verifier lacks each end "could not be fully verified", exit 3; a failure still wins
/// (exit 1).
#[test]
fn what_could_not_be_checked_is_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    let holder = guildmark(dir.path(), &["keygen", "--out", "holder.key"], None).expect(0);
    let holder = holder.stdout.trim().to_owned();
    let at = ["verify", "--at", "2026-06-01T00:00:00Z"];
    let run = |document: &Value, code: i32| {
        let signed = guildmark(
            dir.path(),
            &["sign", "--key", "holder.key"],
            Some(document.to_string().as_bytes()),
        )
        .expect(0);
        guildmark(dir.path(), &at, Some(signed.stdout.as_bytes())).expect(code)
    };
    let incomplete = "NOT VERIFIED: could not be fully verified";

    // Envelopes Guildmark cannot open (COSE, SD-JWT); VC-JWTs are verified (e2e).
    for envelope in [
        "data:application/vc+cose;base64,0oRDoQEmoFkBAqFhdmA",
        "data:application/vc+sd-jwt,eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJldmUifQ.c2ln~",
    ] {
        let presentation = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": holder,
            "verifiableCredential": [{
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": envelope,
                "type": "EnvelopedVerifiableCredential"
            }]
        });
        let out = run(&presentation, 3);
        assert!(
            out.stdout.lines().last().unwrap().starts_with(incomplete),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("\nVERIFIED"), "{}", out.stdout);
    }

    // A proof in a cryptosuite Guildmark does not implement, alone and in a set.
    let issuer = holder.clone();
    let credential = serde_json::json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada", "name": "Ada"}
    });
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "holder.key"],
        Some(credential.to_string().as_bytes()),
    )
    .expect(0);
    let mut unknown_suite = json(&signed.stdout);
    let mut other = unknown_suite["proof"].clone();
    other["cryptosuite"] = "ecdsa-rdfc-2019".into();
    unknown_suite["proof"] = other.clone();
    let out = guildmark(dir.path(), &at, Some(unknown_suite.to_string().as_bytes())).expect(3);
    assert!(out.stdout.contains("not checked"), "{}", out.stdout);
    let mut in_a_set = json(&signed.stdout);
    in_a_set["proof"] = serde_json::json!([in_a_set["proof"].clone(), other]);
    let out = guildmark(
        dir.path(),
        &[&at[..], &["--json"]].concat(),
        Some(in_a_set.to_string().as_bytes()),
    )
    .expect(3);
    let report = json(&out.stdout);
    assert_eq!(
        (report["verified"].clone(), report["complete"].clone()),
        (false.into(), false.into())
    );
    // Among several documents: counted apart, exit 3 when nothing failed.
    std::fs::write(
        dir.path().join("good.json"),
        json(&signed.stdout).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("set.json"), in_a_set.to_string()).unwrap();
    let many = guildmark(
        dir.path(),
        &[&at[..], &["good.json", "set.json"]].concat(),
        None,
    )
    .expect(3);
    assert!(
        many.stdout.contains("incomplete  set.json: proof[1]: ")
            && many
                .stdout
                .contains("2 documents: 1 verified, 0 failed, 1 not fully verified, 0 unreadable"),
        "{}",
        many.stdout
    );
    // Tampered as well: the failure decides.
    let tampered = in_a_set.to_string().replace("Ada", "Eve");
    guildmark(dir.path(), &at, Some(tampered.as_bytes())).expect(1);

    // A context the verifier does not have: unknown, with what to do about it.
    let mut unknown_context = credential.clone();
    unknown_context["@context"] = serde_json::json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://contexts.example/not-registered/v1"
    ]);
    // eddsa-jcs-2022 signs without reading contexts.
    let signed = guildmark(
        dir.path(),
        &["sign", "--key", "holder.key", "--suite", "eddsa-jcs-2022"],
        Some(unknown_context.to_string().as_bytes()),
    )
    .expect(0);
    let out = guildmark(dir.path(), &at, Some(signed.stdout.as_bytes())).expect(3);
    assert!(out.stdout.contains("--contexts"), "{}", out.stdout);
    assert!(
        out.stdout.lines().last().unwrap().starts_with(incomplete),
        "{}",
        out.stdout
    );
}

#[test]
fn sign_refuses_a_nonconforming_credential_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    guildmark(dir.path(), &["keygen", "--out", "k.key"], None).expect(0);
    let no_subject = br#"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:1"}"#;
    let run = guildmark(dir.path(), &["sign", "--key", "k.key"], Some(no_subject)).expect(2);
    assert!(run.stderr.contains("credentialSubject"), "{}", run.stderr);
    guildmark(
        dir.path(),
        &["sign", "--key", "k.key", "--no-validate"],
        Some(no_subject),
    )
    .expect(0);
}

#[test]
fn verify_reports_revocation_from_a_status_list() {
    let dir = tempfile::tempdir().unwrap();
    let generated = vectors().join("vc-di-eddsa/generated-by-digitalbazaar");
    let list = vectors().join("status-list/generated/status-list-credential.eddsa-rdfc-2022.json");
    let contexts = vectors().join("contexts");
    let revoked = guildmark(
        dir.path(),
        &[
            "verify",
            "--contexts",
            contexts.to_str().unwrap(),
            "--status-list",
            list.to_str().unwrap(),
            generated
                .join("ob3-badge-revoked.eddsa-jcs-2022.json")
                .to_str()
                .unwrap(),
        ],
        None,
    )
    .expect(1);
    assert!(
        revoked.stdout.contains("revoked as of"),
        "{}",
        revoked.stdout
    );
    let active = guildmark(
        dir.path(),
        &[
            "verify",
            "--contexts",
            contexts.to_str().unwrap(),
            "--status-list",
            list.to_str().unwrap(),
            generated
                .join("ob3-badge-active.eddsa-jcs-2022.json")
                .to_str()
                .unwrap(),
        ],
        None,
    )
    .expect(0);
    assert!(
        active.stdout.contains("not revoked as of"),
        "{}",
        active.stdout
    );
    // Without the list, status is unknown and said so, but nothing failed.
    let unknown = guildmark(
        dir.path(),
        &[
            "verify",
            "--contexts",
            contexts.to_str().unwrap(),
            generated
                .join("ob3-badge-active.eddsa-jcs-2022.json")
                .to_str()
                .unwrap(),
        ],
        None,
    )
    .expect(0);
    assert!(unknown.stdout.contains("??   status"), "{}", unknown.stdout);
}

#[test]
fn bad_input_is_an_error_with_a_position_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (input, fragment) in [
        (&b"{\n  \"a\": tru\n}"[..], "line 2, column 8"),
        (b"{\"a\":1,\"a\":2}", "duplicate member name"),
        (b"", "unexpected end of input"),
        (b"\xff\xfe", "invalid UTF-8"),
        (b"[]", "NOT VERIFIED"),
    ] {
        let run = guildmark(dir.path(), &["verify"], Some(input));
        let output = format!("{}{}", run.stdout, run.stderr);
        assert!(output.contains(fragment), "{input:?}: {output}");
        assert!(!output.contains("panicked"), "{output}");
        assert!(
            run.code == 1 || run.code == 2,
            "{input:?}: exit {}",
            run.code
        );
    }
    let missing = guildmark(dir.path(), &["verify", "no-such-file.json"], None).expect(2);
    assert!(
        missing.stderr.contains("reading no-such-file.json"),
        "{}",
        missing.stderr
    );
    let missing_key = guildmark(dir.path(), &["sign", "--key", "nope.key"], Some(b"{}")).expect(2);
    assert!(
        missing_key.stderr.contains("nope.key"),
        "{}",
        missing_key.stderr
    );
}

/// `guildmark sign` on an Open Badges credential writes its proof as a one-member proof
/// set, as Open Badges 3.0's JSON schema requires: exactly what Digital Bazaar's signer
/// wrote for the same badge, key and time.
#[test]
fn sign_writes_an_open_badge_proof_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let generated = vectors().join("vc-di-eddsa/generated-by-digitalbazaar");
    let key = vectors().join("vc-di-eddsa/TestVectors/keyPair.json");
    let unsigned = generated.join("ob3-badge-active.unsigned.json");
    let contexts = vectors().join("contexts");
    let run = guildmark(
        dir.path(),
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--created",
            "2025-01-01T00:00:00Z",
            "--contexts",
            contexts.to_str().unwrap(),
            unsigned.to_str().unwrap(),
        ],
        None,
    )
    .expect(0);
    let signed = json(&run.stdout);
    assert_eq!(
        signed["proof"].as_array().map(Vec::len),
        Some(1),
        "{signed:#}"
    );
    let theirs = json(
        &std::fs::read_to_string(generated.join("ob3-badge-active.eddsa-jcs-2022.json")).unwrap(),
    );
    assert_eq!(signed, theirs);
}

/// A reader that stops reading (`guildmark verify --json x | head -1`) ends the command
/// quietly: no panic, no error message, exit 0 — as ripgrep does.
#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let signed = vectors().join("vc-di-eddsa/TestVectors/eddsa-jcs-2022/signedJCS.json");
    let signed = signed.to_str().unwrap();
    for args in [
        &["verify", "--json", signed][..],
        &["verify", signed],
        &["keygen"],
    ] {
        // The reading end is closed before the command starts: every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(crate::common::bin())
            .args(args)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
