//! Transparency-log vectors: RFC 6962 trees and proofs, transparency-dev's probes, Go's
//! signed notes, Sunlight's tiles and cosignatures, a real CT log at size 961,984,011,
//! Sigstore Rekor v2 bundles, and the C2SP spec examples.

use crate::common::{read_json, read_text, vectors, Mismatches};
use base64::Engine as _;
use guildmark_credentials::checkpoint::{
    check_consistency, open_checkpoint, verify_checkpoint, Checkpoint, UncheckedCheckpoint,
};
use guildmark_credentials::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root_of, verify_consistency, verify_inclusion,
    Hash, SubtreeHashes,
};
use guildmark_credentials::note::{Note, NoteSigner, VerifierKey};
use guildmark_credentials::proof::batch::{self, Signed};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::tile::{Tile, TileKind};
use guildmark_credentials::KeyPair;
use serde_json::Value;

const TLOG: &str = "tlog";

fn hex_hash(v: &Value) -> Hash {
    Hash::from_slice(&hex::decode(v.as_str().unwrap()).unwrap()).unwrap()
}

fn hex_hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hex_hash).collect()
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .unwrap()
}

fn b64_hashes(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Null => vec![],
        Value::Array(items) => items.iter().map(b64).collect(),
        other => panic!("{other}"),
    }
}

#[test]
fn rfc6962_eight_leaf_tree() {
    let d = read_json(&format!("{TLOG}/rfc6962_8leaf.json"));
    let mut m = Mismatches::default();
    let mut leaves: Vec<Hash> = Vec::new();
    for leaf in d["leaves"].as_array().unwrap() {
        m.ran();
        let input = hex::decode(leaf["input"].as_str().unwrap()).unwrap();
        let hash = leaf_hash(&input);
        m.check(
            &format!("leaf {}", leaf["index"]),
            "leaf hash",
            hex_hash(&leaf["leaf_hash"]),
            hash,
        );
        leaves.push(hash);
    }
    for root in d["roots"].as_array().unwrap() {
        m.ran();
        let size = root["tree_size"].as_u64().unwrap() as usize;
        m.check(
            &format!("root {size}"),
            "MTH",
            hex_hash(&root["root"]),
            root_of(&leaves[..size]),
        );
    }
    for (level, hashes) in d["complete_subtree_hashes"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (index, want) in hashes.as_array().unwrap().iter().enumerate() {
            m.ran();
            let got = leaves
                .as_mut_slice()
                .subtree(level as u8, index as u64)
                .unwrap();
            m.check(
                &format!("subtree {level}/{index}"),
                "hash",
                hex_hash(want),
                got,
            );
        }
    }
    let inclusion = d["inclusion_proofs"].as_array().unwrap();
    for p in inclusion {
        m.ran();
        let (index, size) = (
            p["leaf_index"].as_u64().unwrap(),
            p["tree_size"].as_u64().unwrap(),
        );
        let case = format!("inclusion {index}/{size}");
        let want = hex_hashes(&p["proof"]);
        m.check(
            &case,
            "generated proof",
            &want,
            &inclusion_proof(leaves.as_mut_slice(), index, size).unwrap(),
        );
        m.check(
            &case,
            "verifies",
            Ok(()),
            verify_inclusion(
                &hex_hash(&p["leaf_hash"]),
                index,
                size,
                &want,
                &hex_hash(&p["root"]),
            ),
        );
    }
    let consistency = d["consistency_proofs"].as_array().unwrap();
    for p in consistency {
        m.ran();
        let (old, new) = (p["size1"].as_u64().unwrap(), p["size2"].as_u64().unwrap());
        let case = format!("consistency {old}->{new}");
        let want = hex_hashes(&p["proof"]);
        m.check(
            &case,
            "generated proof",
            &want,
            &consistency_proof(leaves.as_mut_slice(), old, new).unwrap(),
        );
        m.check(
            &case,
            "verifies",
            Ok(()),
            verify_consistency(
                old,
                new,
                &hex_hash(&p["root1"]),
                &hex_hash(&p["root2"]),
                &want,
            ),
        );
    }
    assert_eq!((inclusion.len(), consistency.len()), (36, 36));
    m.finish(8 + 9 + 15 + 36 + 36);
}

#[test]
fn transparency_dev_probes() {
    let d = read_json(&format!("{TLOG}/transparency_dev_merkle_probes.json"));
    let mut m = Mismatches::default();
    let inclusion = d["inclusion"].as_array().unwrap();
    for p in inclusion {
        m.ran();
        let leaf = b64(&p["leafHash"]);
        let root = b64(&p["root"]);
        let proof = b64_hashes(&p["proof"]);
        // A hash that is not 32 bytes cannot even be represented: that is an error too.
        let result = match (
            Hash::from_slice(&leaf),
            Hash::from_slice(&root),
            proof
                .iter()
                .map(|h| Hash::from_slice(h))
                .collect::<Option<Vec<_>>>(),
        ) {
            (Some(leaf), Some(root), Some(proof)) => verify_inclusion(
                &leaf,
                p["leafIdx"].as_u64().unwrap(),
                p["treeSize"].as_u64().unwrap(),
                &proof,
                &root,
            )
            .is_ok(),
            _ => false,
        };
        m.check(
            p["source_path"].as_str().unwrap(),
            "accepted",
            !p["wantErr"].as_bool().unwrap(),
            result,
        );
    }
    let consistency = d["consistency"].as_array().unwrap();
    for p in consistency {
        m.ran();
        // Some probes use placeholder roots ("don't care 1") where only equality matters;
        // map any non-32-byte root to a distinct stand-in hash.
        let root = |v: &Value| {
            let raw = b64(v);
            if raw.len() == 32 {
                raw
            } else {
                leaf_hash(&raw).0.to_vec()
            }
        };
        let (r1, r2) = (root(&p["root1"]), root(&p["root2"]));
        let proof = b64_hashes(&p["proof"]);
        let result = match (
            Hash::from_slice(&r1),
            Hash::from_slice(&r2),
            proof
                .iter()
                .map(|h| Hash::from_slice(h))
                .collect::<Option<Vec<_>>>(),
        ) {
            (Some(r1), Some(r2), Some(proof)) => verify_consistency(
                p["size1"].as_u64().unwrap(),
                p["size2"].as_u64().unwrap(),
                &r1,
                &r2,
                &proof,
            )
            .is_ok(),
            _ => false,
        };
        m.check(
            p["source_path"].as_str().unwrap(),
            "accepted",
            !p["wantErr"].as_bool().unwrap(),
            result,
        );
    }
    assert_eq!(inclusion.len() + consistency.len(), 196);
    m.finish(196);
}

/// Go's private key string `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)` (test input only).
fn go_signer(skey: &str) -> NoteSigner {
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(parts[4])
        .unwrap();
    NoteSigner::ed25519(parts[2], KeyPair::from_seed(&raw[1..].try_into().unwrap())).unwrap()
}

#[test]
fn go_sumdb_signed_notes() {
    let d = read_json(&format!("{TLOG}/go_sumdb_note.json"));
    let mut m = Mismatches::default();
    let keys = d["keys"].as_array().unwrap();
    let signer = |name: &str| {
        go_signer(
            keys.iter().find(|k| k["name"] == name).unwrap()["skey"]
                .as_str()
                .unwrap(),
        )
    };
    for key in keys {
        m.ran();
        let vkey: VerifierKey = key["vkey"].as_str().unwrap().parse().unwrap();
        m.check(
            key["name"].as_str().unwrap(),
            "key ID",
            key["key_id_hex"].as_str().unwrap().to_owned(),
            format!("{:08x}", vkey.key_id()),
        );
        m.check(
            key["name"].as_str().unwrap(),
            "signer's verifier key",
            vkey,
            signer(key["name"].as_str().unwrap()).verifier().clone(),
        );
    }
    for v in d["sign_vectors"].as_array().unwrap() {
        m.ran();
        let mut note = Note::new(v["text"].as_str().unwrap()).unwrap();
        for name in v["signer"].as_str().unwrap().split(" then ") {
            note.sign(&signer(name), 0);
        }
        m.check(
            v["signer"].as_str().unwrap(),
            "signed note",
            v["expected_note"].as_str().unwrap().to_owned(),
            note.to_string(),
        );
    }
    // Signing a note that already carries a (bogus) signature by the same key replaces it.
    m.ran();
    let first = &d["sign_vectors"][0];
    let mut note = Note::new(first["text"].as_str().unwrap()).unwrap();
    let peter = signer("PeterNeumann");
    let mut bogus = peter.signature(&note.text, 0);
    bogus.signature[0] ^= 0xff;
    note.signatures.push(bogus);
    note.sign(&peter, 0);
    m.check(
        "replace",
        "signed note",
        first["expected_note"].as_str().unwrap().to_owned(),
        note.to_string(),
    );
    let opens = d["open_vectors"].as_array().unwrap();
    for v in opens {
        m.ran();
        let verifiers: Vec<VerifierKey> = v["verifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().parse().unwrap())
            .collect();
        let result =
            Note::parse(v["msg"].as_str().unwrap().as_bytes()).and_then(|n| n.open(&verifiers));
        let expect = v["expect"].as_str().unwrap();
        match (expect == "ok", result) {
            (true, Ok(opened)) => {
                let names: Vec<String> = opened
                    .verified
                    .iter()
                    .map(|(k, _)| k.name().to_owned())
                    .collect();
                m.check(
                    expect,
                    "verified",
                    v["verified_sigs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect::<Vec<_>>(),
                    names,
                );
            }
            (false, Err(_)) => {}
            (want, got) => m.fail(expect, format!("expected ok={want}, got {got:?}")),
        }
    }
    let malformed = d["malformed_notes_must_be_rejected"].as_array().unwrap();
    let verifiers: Vec<VerifierKey> = vec![keys[0]["vkey"].as_str().unwrap().parse().unwrap()];
    for v in malformed {
        m.ran();
        let bytes = b64(&v["base64"]);
        if let Ok(opened) = Note::parse(&bytes).and_then(|n| n.open(&verifiers)) {
            m.fail(v["desc"].as_str().unwrap(), format!("accepted: {opened:?}"));
        }
    }
    let vkeys: Vec<&Value> = d["vkey_vectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.get("vkey").is_some())
        .collect();
    for v in &vkeys {
        m.ran();
        m.check(
            v["vkey"].as_str().unwrap(),
            "valid",
            v["valid"].as_bool().unwrap(),
            v["vkey"].as_str().unwrap().parse::<VerifierKey>().is_ok(),
        );
    }
    // The rule entry: every proper substring of a valid vkey, and every variant with one
    // byte incremented, is refused (note_test.go TestNewVerifier).
    let mut derived = 0;
    for v in vkeys.iter().filter(|v| v["valid"] == true) {
        let key = v["vkey"].as_str().unwrap().as_bytes();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for i in 0..key.len() {
            for j in i + 1..=key.len() {
                if (i, j) != (0, key.len()) {
                    variants.push(key[i..j].to_vec());
                }
            }
            let mut bumped = key.to_vec();
            bumped[i] = bumped[i].wrapping_add(1);
            variants.push(bumped);
        }
        for variant in variants {
            derived += 1;
            if let Ok(text) = std::str::from_utf8(&variant) {
                if let Ok(parsed) = text.parse::<VerifierKey>() {
                    m.fail(text, format!("accepted as {parsed}"));
                }
            }
        }
    }
    assert!(derived > 5000, "{derived} derived vkey variants");
    m.finish(keys.len() + 2 + 1 + opens.len() + malformed.len() + vkeys.len());
}

/// Hashes of `leaves`, as tiles (test helper for the Sunlight tree).
fn leaves_of(records: impl Iterator<Item = String>) -> Vec<Hash> {
    records.map(|r| leaf_hash(r.as_bytes())).collect()
}

#[test]
fn sunlight_tiles_and_cosignatures() {
    let d = read_json(&format!("{TLOG}/sunlight_skylight_testdata.json"));
    let dir = vectors().join(TLOG);
    let mut m = Mismatches::default();
    let mut leaves = leaves_of((0..300).map(|i| format!("record {i}")));
    let root = root_of(&leaves);
    let base = "sunlight_skylight_testdata/witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706";
    // Tiles: level 0 full, level 0 partial, level 1 partial.
    for (path, expected_hashes) in [
        ("tile/0/000", leaves[..256].to_vec()),
        ("tile/0/001.p/44", leaves[256..].to_vec()),
        ("tile/1/000.p/1", vec![root_of(&leaves[..256])]),
    ] {
        m.ran();
        let bytes = std::fs::read(dir.join(base).join(path)).unwrap();
        let got: Vec<u8> = expected_hashes.iter().flat_map(|h| h.0).collect();
        m.check(path, "tile bytes", bytes, got);
        let tile = Tile::parse(path).unwrap();
        m.check(
            path,
            "width",
            Tile::width_in(
                match tile.kind {
                    TileKind::Hash(l) => l,
                    _ => unreachable!(),
                },
                tile.index,
                300,
            ),
            Some(tile.width),
        );
    }
    let cosigners: Vec<VerifierKey> = d["cosigner_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["vkey"].as_str().unwrap().parse().unwrap())
        .collect();
    let mut cosigned = 0;
    for v in d["vectors"].as_array().unwrap() {
        let file = v["file"].as_str().unwrap();
        if !file.ends_with("checkpoint") {
            continue;
        }
        m.ran();
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let note = Note::parse(text.as_bytes()).unwrap();
        let checkpoint = Checkpoint::parse(&note.text).unwrap();
        // The log's own RFC6962NoteSignature (type 0x05, a CT log's ECDSA key) is carried
        // but not verifiable here; a checkpoint with only that has no cosignature to check.
        let only_log_signature = note.signatures.iter().all(|s| s.name == checkpoint.origin);
        match note.open(&cosigners) {
            Err(guildmark_credentials::note::NoteError::NoVerifiableSignature)
                if only_log_signature => {}
            Ok(opened) => {
                cosigned += opened.verified.len();
                // Cosignatures are deterministic: re-signing reproduces each line.
                for (key, time) in &opened.verified {
                    let seed = d["cosigner_keys"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|k| k["name"] == key.name())
                        .unwrap()["ed25519_seed_hex"]
                        .as_str()
                        .unwrap();
                    let signer = NoteSigner::cosigner(
                        key.name(),
                        KeyPair::from_seed(&hex::decode(seed).unwrap().try_into().unwrap()),
                    )
                    .unwrap();
                    let again = signer.signature(&note.text, time.unwrap());
                    m.check(
                        file,
                        "re-signed cosignature",
                        true,
                        note.signatures.contains(&again),
                    );
                }
            }
            Err(e) => m.fail(file, format!("cosignatures: {e}")),
        }
        if v["expect"]
            .as_str()
            .unwrap_or("")
            .contains("root == MTH(records)")
        {
            m.check(file, "root of records 0..299", root, checkpoint.root);
        }
    }
    assert!(cosigned >= 3, "{cosigned} cosignatures verified");
    for e in d["derived_inclusion_examples"].as_array().unwrap() {
        m.ran();
        let index = e["leaf_index"].as_u64().unwrap();
        let proof: Vec<Hash> = e["proof_b64"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        m.check(
            &format!("inclusion {index}"),
            "generated",
            &proof,
            &inclusion_proof(leaves.as_mut_slice(), index, 300).unwrap(),
        );
        m.check(
            &format!("inclusion {index}"),
            "verifies",
            Ok(()),
            verify_inclusion(
                &leaf_hash(e["record"].as_str().unwrap().as_bytes()),
                index,
                300,
                &proof,
                &root,
            ),
        );
    }
    m.finish(
        3 + d["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["file"].as_str().unwrap().ends_with("checkpoint"))
            .count()
            + d["derived_inclusion_examples"].as_array().unwrap().len(),
    );
}

#[test]
fn certificate_transparency_at_961_million_entries() {
    let d = read_json(&format!("{TLOG}/ct_argon2020_real.json"));
    let hash = |v: &Value| Hash::from_base64(v.as_str().unwrap()).unwrap();
    let hashes = |v: &Value| v.as_array().unwrap().iter().map(hash).collect::<Vec<_>>();
    let root = hash(&d["sth"]["sha256_root_hash"]);
    let inc = &d["inclusion"];
    let leaf = leaf_hash(&b64(&inc["leaf_input"]));
    verify_inclusion(
        &leaf,
        inc["leaf_index"].as_u64().unwrap(),
        inc["tree_size"].as_u64().unwrap(),
        &hashes(&inc["audit_path"]),
        &root,
    )
    .unwrap();
    let c = &d["consistency"];
    verify_consistency(
        c["size1"].as_u64().unwrap(),
        c["size2"].as_u64().unwrap(),
        &hash(&c["root1"]),
        &hash(&c["root2"]),
        &hashes(&c["proof"]),
    )
    .unwrap();
    // And a changed leaf is refused at that scale too.
    let mut bad = b64(&inc["leaf_input"]);
    bad[40] ^= 1;
    assert!(verify_inclusion(
        &leaf_hash(&bad),
        inc["leaf_index"].as_u64().unwrap(),
        inc["tree_size"].as_u64().unwrap(),
        &hashes(&inc["audit_path"]),
        &root
    )
    .is_err());
}

#[test]
fn sigstore_rekor_v2_ed25519_bundles() {
    let d = read_json(&format!("{TLOG}/sigstore_rekor_bundles.json"));
    let mut m = Mismatches::default();
    let mut runs = 0;
    for e in d["entries"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let key_details = e
            .pointer("/log_key/publicKey/keyDetails")
            .and_then(Value::as_str);
        if let Some(checkpoint) = e.get("checkpoint").and_then(Value::as_str) {
            runs += 1;
            m.ran();
            let vkey: VerifierKey = e["vkey"].as_str().unwrap().parse().unwrap();
            m.check(
                name,
                "checkpoint",
                true,
                verify_checkpoint(checkpoint, &vkey, &[]).is_ok(),
            );
            continue;
        }
        if key_details != Some("PKIX_ED25519") {
            continue; // Rekor v1 signs with ECDSA P-256, which signed notes here do not use.
        }
        runs += 1;
        m.ran();
        let entry = &e["tlog_entry"];
        let proof = &entry["inclusionProof"];
        let envelope = proof["checkpoint"]["envelope"].as_str().unwrap();
        let origin = envelope.lines().next().unwrap();
        // The log key is a DER SubjectPublicKeyInfo: a 12-byte header, then the raw key.
        let spki = b64(&e["log_key"]["publicKey"]["rawBytes"]);
        let key = ed25519_dalek::VerifyingKey::from_bytes(&spki[12..].try_into().unwrap()).unwrap();
        let vkey = VerifierKey::ed25519(origin, key).unwrap();
        let receipt = Receipt {
            index: proof["logIndex"].as_str().unwrap().parse().unwrap(),
            proof: proof["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
                .collect(),
            checkpoint: envelope.to_owned(),
        };
        let body = b64(&entry["canonicalizedBody"]);
        match receipt.verify(&body, &vkey, &[]) {
            Ok(verified) => m.check(
                name,
                "tree size",
                proof["treeSize"].as_str().unwrap().parse::<u64>().unwrap(),
                verified.checkpoint.size,
            ),
            Err(err) => m.fail(name, err),
        }
        // The receipt survives the C2SP tlog-proof text form.
        m.check(
            name,
            "tlog-proof round trip",
            Ok(receipt.clone()),
            Receipt::from_tlog_proof(&receipt.to_tlog_proof()).map_err(|e| e.to_string()),
        );
    }
    assert_eq!(
        runs, 3,
        "two Ed25519 bundles and the checkpoint-only example"
    );
    m.finish(runs);
}

#[test]
fn c2sp_spec_examples() {
    let d = read_json(&format!("{TLOG}/c2sp_spec_examples.json"));
    let mut m = Mismatches::default();
    let ex = &d["signed_note"]["verifiable_example"];
    m.ran();
    let vkey: VerifierKey = ex["vkey"].as_str().unwrap().parse().unwrap();
    let note = Note::parse(ex["note"].as_str().unwrap().as_bytes()).unwrap();
    m.check(
        "signed note",
        "text",
        ex["signed_text"].as_str().unwrap(),
        note.text.as_str(),
    );
    m.check("signed note", "opens", true, note.open(&[vkey]).is_ok());
    let tiles = &d["tlog_tiles"];
    for (n, path) in tiles["N_encoding_example"].as_object().unwrap() {
        m.ran();
        let tile = Tile {
            kind: TileKind::Hash(0),
            index: n.parse().unwrap(),
            width: 256,
        };
        m.check(
            n,
            "path",
            format!("tile/0/{}", path.as_str().unwrap()),
            tile.path(),
        );
    }
    // The spec's inventory for 70,000 entries.
    m.ran();
    let inventory = Tile::inventory(70_000);
    let count = |kind: TileKind, full: bool| {
        inventory
            .iter()
            .filter(|t| t.kind == kind && t.is_full() == full)
            .count()
    };
    m.check(
        "70000",
        "level 0",
        (273, 1),
        (
            count(TileKind::Hash(0), true),
            count(TileKind::Hash(0), false),
        ),
    );
    m.check(
        "70000",
        "level 1",
        (1, 1),
        (
            count(TileKind::Hash(1), true),
            count(TileKind::Hash(1), false),
        ),
    );
    m.check(
        "70000",
        "level 2 partial width",
        Some(1),
        Tile::width_in(2, 0, 70_000),
    );
    m.check(
        "70000",
        "level 0 partial width",
        Some(112),
        Tile::width_in(0, 273, 70_000),
    );
    m.check(
        "70000",
        "level 1 partial width",
        Some(17),
        Tile::width_in(1, 1, 70_000),
    );
    m.check(
        "70000",
        "entry bundles",
        274,
        inventory
            .iter()
            .filter(|t| t.kind == TileKind::Entries)
            .count(),
    );
    // Checkpoint bodies parse, including the spec example.
    m.ran();
    let example = d["tlog_checkpoint"]["example (format only, log key not published)"]
        .as_str()
        .unwrap();
    let checkpoint = Checkpoint::parse(&Note::parse(example.as_bytes()).unwrap().text).unwrap();
    m.check("checkpoint", "size", 20_852_163, checkpoint.size);
    m.check(
        "checkpoint",
        "round trip",
        Note::parse(example.as_bytes()).unwrap().text,
        checkpoint.body(),
    );
    m.finish(1 + tiles["N_encoding_example"].as_object().unwrap().len() + 2);
}

#[test]
fn tessera_log_checkpoints_and_proofs() {
    let d = read_json(&format!("{TLOG}/tessera_testdata_log.json"));
    let vkey: VerifierKey = d["log_vkey"].as_str().unwrap().parse().unwrap();
    let mut m = Mismatches::default();
    let entries: Vec<Vec<u8>> = d["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data_utf8"].as_str().unwrap().as_bytes().to_vec())
        .collect();
    let mut leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let mut checkpoints = Vec::new();
    for size in 0..=entries.len() {
        m.ran();
        let text = read_text(&format!("{TLOG}/tessera_testdata_log/checkpoint.{size}"));
        match verify_checkpoint(&text, &vkey, &[]) {
            Ok(v) => {
                m.check(
                    &format!("checkpoint.{size}"),
                    "root",
                    root_of(&leaves[..size]),
                    v.checkpoint.root,
                );
                checkpoints.push(v.checkpoint);
            }
            Err(e) => m.fail(&format!("checkpoint.{size}"), e),
        }
    }
    // Every pair of checkpoints is consistent, with proofs we generate (size 0 included).
    for old in &checkpoints {
        for new in checkpoints.iter().filter(|n| n.size >= old.size) {
            m.ran();
            let proof = if old.size == 0 {
                vec![]
            } else {
                consistency_proof(leaves.as_mut_slice(), old.size, new.size).unwrap()
            };
            m.check(
                &format!("{}->{}", old.size, new.size),
                "consistent",
                Ok(()),
                check_consistency(old, new, &proof).map_err(|e| e.to_string()),
            );
        }
    }
    m.finish(16 + 16 * 17 / 2);
}

/// Checkpoints opened for a batch (their log signatures checked with other signatures)
/// hold exactly when `verify_checkpoint` says they do.
#[test]
fn checkpoints_checked_in_one_batch_agree_with_one_by_one() {
    let d = read_json(&format!("{TLOG}/tessera_testdata_log.json"));
    let vkey: VerifierKey = d["log_vkey"].as_str().unwrap().parse().unwrap();
    let texts: Vec<String> = (0..=15)
        .map(|size| read_text(&format!("{TLOG}/tessera_testdata_log/checkpoint.{size}")))
        .collect();
    let opened: Vec<UncheckedCheckpoint> = texts
        .iter()
        .map(|t| open_checkpoint(t, &vkey).unwrap())
        .collect();
    let signed: Vec<Signed<'_>> = opened.iter().flat_map(|c| c.signed()).collect();
    assert_eq!(signed.len(), texts.len());
    assert!(batch::verify(&signed));
    for (text, checkpoint) in texts.iter().zip(&opened) {
        assert_eq!(
            checkpoint.checkpoint,
            verify_checkpoint(text, &vkey, &[]).unwrap().checkpoint
        );
    }

    // The same note with another tree size: it still opens, but its signature fails,
    // in the batch as one by one.
    let text = &texts[5];
    let tampered = text.replacen("\n5\n", "\n6\n", 1);
    assert_ne!(&tampered, text);
    assert!(verify_checkpoint(&tampered, &vkey, &[]).is_err());
    let forged = open_checkpoint(&tampered, &vkey).unwrap();
    let mut signed: Vec<Signed<'_>> = opened.iter().flat_map(|c| c.signed()).collect();
    signed.extend(forged.signed());
    assert!(!batch::verify(&signed));

    // Another log's key: refused before any signature is checked.
    let other: VerifierKey =
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
            .parse()
            .unwrap();
    assert!(open_checkpoint(text, &other).is_err());
}
