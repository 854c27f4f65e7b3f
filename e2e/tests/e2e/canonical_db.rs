//! RDFC-1.0 exactness against an independent implementation: for 1,000 random Open Badges
//! 3.0 credentials, Guildmark's canonical N-Quads (own expansion, toRdf and
//! canonicalization) equal those of jsonld.js + rdf-canonize (Digital Bazaar, safe mode),
//! byte for byte. The badges are built from a seeded generator, so a failure names a
//! badge that can be regenerated; the mix aims at what canonicalization gets wrong:
//! escapes and non-ASCII text, numbers of every shape, coerced datatypes, lists, blank
//! nodes (some identical, which only the N-degree hash tells apart).

use guildmark_credentials::badge::OB_CONTEXT;
use guildmark_credentials::jsonld::{canonical_nquads, Contexts};
use serde_json::{json, Value};

use crate::common::vectors;
use crate::interop_db::db;

/// How many random badges are compared.
const BADGES: usize = 1_000;

/// splitmix64: reproducible random choices from a seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// Text with the characters canonicalization is most likely to get wrong.
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "Z", " ", "é", "ß", "€", "日本", "😀", "\"", "\\", "\n", "\t", "\r", "\u{7}",
            "\u{7f}", "\u{2028}", "<", ">", "&", "%", "ü", "\u{0}", "\u{1f}", "^", "{",
        ];
        (0..1 + self.below(20)).map(|_| self.pick(PIECES)).collect()
    }

    fn number(&mut self) -> Value {
        match self.below(9) {
            0 => json!(self.below(2_000_000) as i64 - 1_000_000),
            1 => json!((self.next() % 1000) as f64 / 7.0),
            2 => json!(((self.next() % 1_000_000) as f64 - 500_000.0) * 1e15),
            3 => json!((self.next() % 1000) as f64 * 1e-9),
            4 => json!(9_007_199_254_740_992u64),
            5 => json!(0.1 + 0.2),
            6 => json!(12_914_528_248_096_470_000u64),
            7 => json!(-0.0),
            _ => json!(1e21 * (1 + self.below(9)) as f64),
        }
    }

    fn url(&mut self) -> String {
        format!(
            "https://example.org/{}/{}",
            self.pick(&["a", "b", "x/y", "ü", "%C3%A9"]),
            self.below(1000)
        )
    }

    fn did(&mut self) -> String {
        format!("did:example:{}", self.below(100_000))
    }
}

fn achievement(r: &mut Random) -> Value {
    let mut a = json!({
        "type": ["Achievement"],
        "name": r.text(),
        "description": r.text(),
        "criteria": if r.chance(50) { json!({"narrative": r.text()}) } else { json!({"id": r.url(), "narrative": r.text()}) },
    });
    if r.chance(80) {
        a["id"] = r.url().into();
    }
    if r.chance(40) {
        a["creditsAvailable"] = r.number();
    }
    if r.chance(50) {
        a["tag"] = (0..r.below(4)).map(|_| Value::from(r.text())).collect();
    }
    if r.chance(40) {
        a["alignment"] = (0..1 + r.below(3))
            .map(|_| json!({"type": ["Alignment"], "targetName": r.text(), "targetUrl": r.url()}))
            .collect();
    }
    if r.chance(40) {
        let mut d = json!({"type": ["ResultDescription"], "name": r.text(), "resultType": r.pick(&["GradePointAverage", "LetterGrade", "Status"])});
        if r.chance(70) {
            d["allowedValue"] = (0..r.below(5)).map(|_| Value::from(r.text())).collect();
        }
        if r.chance(50) {
            d["id"] = r.url().into();
        }
        a["resultDescription"] = json!([d]);
    }
    if r.chance(40) {
        a["image"] = json!({"id": r.url(), "type": "Image", "caption": r.text()});
    }
    if r.chance(30) {
        a["achievementType"] = r
            .pick(&["Badge", "Certificate", "Competency", "ext:Custom"])
            .into();
    }
    if r.chance(30) {
        a["humanCode"] = r.text().into();
    }
    a
}

fn badge(r: &mut Random, n: usize) -> Value {
    let issuer = if r.chance(50) {
        json!(r.did())
    } else {
        json!({"id": r.did(), "type": ["Profile"], "name": r.text(), "url": r.url()})
    };
    let mut subject = json!({"type": ["AchievementSubject"], "achievement": achievement(r)});
    if r.chance(70) {
        subject["id"] = r.did().into();
    }
    if r.chance(30) {
        subject["creditsEarned"] = r.number();
    }
    if r.chance(30) {
        subject["activityStartDate"] = "2026-01-15".into();
    }
    if r.chance(40) {
        subject["result"] = (0..1 + r.below(2))
            .map(|_| json!({"type": ["Result"], "value": r.text(), "status": r.pick(&["Completed", "Enrolled"])}))
            .collect();
    }
    let mut credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2", OB_CONTEXT],
        "id": format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": "2026-03-01T10:00:00Z",
        "name": r.text(),
        "credentialSubject": subject,
    });
    if r.chance(50) {
        credential["description"] = r.text().into();
    }
    if r.chance(50) {
        // Sometimes two identical pieces of evidence: symmetric blank nodes.
        let one = json!({"type": ["Evidence"], "narrative": r.text(), "name": r.text()});
        let mut evidence = vec![one.clone()];
        if r.chance(50) {
            evidence.push(one);
        }
        if r.chance(50) {
            evidence.push(json!({"type": ["Evidence"], "narrative": r.text()}));
        }
        credential["evidence"] = evidence.into();
    }
    if r.chance(30) {
        credential["credentialStatus"] = json!({
            "id": format!("{}#{}", r.url(), r.below(1000)),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": r.below(100_000).to_string(),
            "statusListCredential": r.url(),
        });
    }
    credential
}

#[test]
fn canonical_nquads_equal_digital_bazaars_for_1000_random_open_badges() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random(0x6775_696c_646d_6172);
    let badges: Vec<Value> = (0..BADGES).map(|n| badge(&mut random, n)).collect();
    let input: Vec<Value> = badges
        .iter()
        .enumerate()
        .map(|(n, b)| json!({"name": n, "document": b}))
        .collect();
    let file = dir.path().join("badges.json");
    std::fs::write(&file, serde_json::to_vec(&input).unwrap()).unwrap();
    let theirs = db(&["canonize", file.to_str().unwrap()]);

    let mut contexts = Contexts::bundled();
    let dir = vectors().join("contexts");
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    contexts
        .register_index(&index, |f| std::fs::read_to_string(dir.join(f)))
        .unwrap();
    let mut mismatches = Vec::new();
    let (mut equal, mut both_refused) = (0, 0);
    for (n, badge) in badges.iter().enumerate() {
        let theirs = &theirs[n];
        assert_eq!(theirs["name"], n);
        let ours = canonical_nquads(badge, &contexts);
        match (ours, theirs["nquads"].as_str()) {
            (Ok(ours), Some(expected)) if ours == expected => equal += 1,
            (Err(_), None) => both_refused += 1,
            (ours, _) => mismatches.push(format!(
                "badge {n}: {badge}\nours:   {ours:?}\ntheirs: {theirs}"
            )),
        }
    }
    println!("{BADGES} random Open Badges: {equal} canonical forms equal, {both_refused} refused by both");
    assert!(
        mismatches.is_empty(),
        "{} of {BADGES} differ; first:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // The generator makes valid badges: nearly all must be compared, not refused.
    assert!(equal >= BADGES * 95 / 100, "only {equal} compared");
}
