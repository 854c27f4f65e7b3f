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
            .contains("2 documents: 2 verified, 0 failed, 0 unreadable"),
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
        lines[3].starts_with("3 documents: 1 verified, 1 failed, 1 unreadable"),
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
