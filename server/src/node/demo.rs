//! `guildmark serve --demo`: a believable world on an empty node, so that a newcomer
//! sees communities, a skill tree, badges, an endorsement and a revocation at once.

use std::collections::{BTreeSet, HashMap};

use super::account::Caller;
use super::achievement::AchievementFields;
use super::attestation::AttestRequest;
use super::badge::{EvidenceInput, IssueRequest, StatusChange};
use super::batch::RegisterRequest;
use super::community::Role;
use super::endorsement::EndorseRequest;
use super::protocol::PublishRequest;
use super::{Node, NodeResult};
use guildmark_review_protocols::attestation::Recorded;
use guildmark_review_protocols::{examples, ReviewerVerdict, StepResult};

/// The password of every demo account (printed at startup; demo data only).
pub const DEMO_PASSWORD: &str = "guildmark-demo";

/// One demo login, for the startup message.
pub struct DemoLogin {
    /// Username.
    pub username: String,
    /// Where and as what.
    pub roles: String,
}

/// A demo person's communities and roles there.
type Memberships = &'static [(&'static str, &'static [Role])];

struct Skill {
    community: &'static str,
    name: &'static str,
    title: &'static str,
    description: &'static str,
    criteria: &'static str,
    level: &'static str,
    prerequisites: &'static [&'static str],
}

const SKILLS: &[Skill] = &[
    Skill {
        community: "saltmarsh",
        name: "soldering-l1",
        title: "Soldering, level 1",
        description: "Solders through-hole parts cleanly and safely.",
        criteria: "Assemble the practice board: 40 through-hole joints, all wetted, no bridges, inspected by an assessor.",
        level: "1",
        prerequisites: &[],
    },
    Skill {
        community: "saltmarsh",
        name: "soldering-l2",
        title: "Soldering, level 2",
        description: "Solders surface-mount parts down to 0603 and reworks faulty joints.",
        criteria: "Assemble and rework the SMD practice board; pass visual inspection at 10x.",
        level: "2",
        prerequisites: &["soldering-l1"],
    },
    Skill {
        community: "saltmarsh",
        name: "battery-safety",
        title: "Battery safety",
        description: "Handles, tests and stores lithium cells without hazard.",
        criteria: "Written test and a supervised capacity test of a refurbished pack.",
        level: "1",
        prerequisites: &[],
    },
    Skill {
        community: "lumen",
        name: "electrical-safety",
        title: "Electrical safety",
        description: "Works safely on DC systems up to 60 V and isolates before touching.",
        criteria: "Lock-out procedure demonstrated; insulation and polarity checks done on a live installation.",
        level: "1",
        prerequisites: &[],
    },
    Skill {
        community: "lumen",
        name: "power-electronics-reviewer",
        title: "Power-electronics reviewer",
        description: "Qualified to review batches of charge controllers and converters.",
        criteria: "Reviewed two batches under supervision; measurement technique checked by two reviewers.",
        level: "3",
        prerequisites: &["saltmarsh/soldering-l2", "lumen/electrical-safety"],
    },
    Skill {
        community: "saltmarsh",
        name: "power-electronics-reviewer",
        title: "Power-electronics reviewer",
        description: "Qualified to review batches of charge controllers, converters and battery chargers.",
        criteria: "Reviewed two batches alongside a qualified reviewer; bench technique and independence checked by the café's assessors.",
        level: "3",
        prerequisites: &["soldering-l2", "battery-safety"],
    },
    Skill {
        community: "kestrel",
        name: "mppt-assembly",
        title: "MPPT controller assembly",
        description: "Assembles and bench-tests the MPPT20 charge controller.",
        criteria: "Assembled five controllers that passed the factory test.",
        level: "2",
        prerequisites: &["saltmarsh/soldering-l1"],
    },
];

/// The demo's people: their communities and roles there.
const PEOPLE: &[(&str, Memberships)] = &[
    ("mira", &[("kestrel", &[Role::Admin])]),
    ("tomas", &[("kestrel", &[Role::Assessor])]),
    ("jun", &[("kestrel", &[Role::Producer])]),
    (
        "ada",
        &[
            ("kestrel", &[Role::Apprentice]),
            ("saltmarsh", &[Role::Apprentice]),
        ],
    ),
    ("noor", &[("saltmarsh", &[Role::Admin, Role::Assessor])]),
    (
        "felix",
        &[
            ("saltmarsh", &[Role::Reviewer]),
            ("lumen", &[Role::Apprentice]),
        ],
    ),
    ("ines", &[("saltmarsh", &[Role::Apprentice])]),
    ("oskar", &[("lumen", &[Role::Admin])]),
    ("priya", &[("lumen", &[Role::Assessor, Role::Reviewer])]),
    (
        "bo",
        &[
            ("lumen", &[Role::Reviewer]),
            ("saltmarsh", &[Role::Apprentice]),
        ],
    ),
    ("lea", &[("lumen", &[Role::Apprentice])]),
];

/// The demo's communities: slug, name, description.
const COMMUNITIES: [(&str, &str, &str); 3] = [
    ("kestrel", "Kestrel Valley Microfactory", "A valley workshop that designs and builds solar charge controllers and small wind turbines for the region."),
    ("saltmarsh", "Saltmarsh Repair Café", "A coastal repair café: every Saturday, neighbours fix electronics, bikes and batteries together and teach each other to solder."),
    ("lumen", "Lumen Mountain Power Co-op", "A mountain energy co-operative running micro-grids for twelve villages; it trains and qualifies the people who review power hardware."),
];

/// Who runs each demo community (and defines its achievements).
fn admin_of(slug: &str) -> &'static str {
    match slug {
        "kestrel" => "mira",
        "saltmarsh" => "noor",
        _ => "oskar",
    }
}

/// The demo's badges: community, assessor, recipient, achievement, how it was earned.
const AWARDS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "saltmarsh",
        "noor",
        "felix",
        "soldering-l1",
        "Practice board, 40/40 joints good.",
    ),
    (
        "saltmarsh",
        "noor",
        "felix",
        "soldering-l2",
        "Reworked three QFN parts without lifting a pad.",
    ),
    (
        "saltmarsh",
        "noor",
        "felix",
        "battery-safety",
        "Capacity-tested a 10S3P e-bike pack under supervision.",
    ),
    (
        "saltmarsh",
        "noor",
        "bo",
        "soldering-l1",
        "Practice board, 39/40 joints good, one reworked on the spot.",
    ),
    (
        "saltmarsh",
        "noor",
        "bo",
        "soldering-l2",
        "SMD board passed 10x inspection.",
    ),
    (
        "saltmarsh",
        "noor",
        "ines",
        "soldering-l1",
        "First practice board, all joints wetted.",
    ),
    (
        "saltmarsh",
        "noor",
        "ada",
        "soldering-l1",
        "Practice board at the March repair café.",
    ),
    (
        "lumen",
        "priya",
        "bo",
        "electrical-safety",
        "Isolated and tested the Alder Creek micro-grid inverter.",
    ),
    (
        "lumen",
        "priya",
        "felix",
        "electrical-safety",
        "Lock-out procedure and polarity checks on the school installation.",
    ),
    (
        "lumen",
        "priya",
        "bo",
        "power-electronics-reviewer",
        "Reviewed MPPT20 batches 3 and 4 under supervision.",
    ),
    (
        "saltmarsh",
        "noor",
        "felix",
        "power-electronics-reviewer",
        "Reviewed two batches of buck converters alongside a qualified reviewer.",
    ),
    (
        "kestrel",
        "tomas",
        "ada",
        "mppt-assembly",
        "Assembled five MPPT20 controllers, all passed the factory test.",
    ),
];

/// The demo's people as callers: the node acts for each through the same authorization
/// as their requests would get.
type Cast = HashMap<&'static str, Caller>;

impl Node {
    /// Seeds the demo world if the node has no community yet; returns the logins.
    pub async fn seed_demo(&self) -> NodeResult<Option<Vec<DemoLogin>>> {
        if !self.communities()?.is_empty() {
            return Ok(None);
        }
        let cast = self.seed_people().await?;
        self.seed_skills(&cast).await?;
        self.seed_awards(&cast).await?;
        self.seed_reviews(&cast).await?;
        Ok(Some(demo_logins()))
    }

    /// The operator founds the communities, admits everyone, then leaves them to their
    /// admins.
    async fn seed_people(&self) -> NodeResult<Cast> {
        let operator = match self.account("operator")? {
            Some(a) => a,
            None => self.create_account("operator", DEMO_PASSWORD, None).await?,
        };
        let operator = Caller::internal(operator);
        for (slug, name, description) in COMMUNITIES {
            self.create_community(Some(&operator), slug, name, description)
                .await?;
        }
        let mut cast = Cast::new();
        for (username, memberships) in PEOPLE {
            let account = self.create_account(username, DEMO_PASSWORD, None).await?;
            for (slug, roles) in memberships.iter() {
                let roles = roles.iter().copied().collect();
                self.set_member(Some(&operator), slug, username, roles)
                    .await?;
            }
            cast.insert(*username, Caller::internal(account));
        }
        for (slug, _, _) in COMMUNITIES {
            self.remove_member(Some(&operator), slug, "operator")
                .await?;
        }
        Ok(cast)
    }

    /// Each community's admin defines its skill tree, each achievement with the node's
    /// medal artwork as its image.
    async fn seed_skills(&self, cast: &Cast) -> NodeResult<()> {
        for skill in SKILLS {
            let prerequisites = skill
                .prerequisites
                .iter()
                .map(|p| match p.split_once('/') {
                    Some((c, n)) => {
                        format!("{}/communities/{c}/achievements/{n}", self.public_url())
                    }
                    None => (*p).to_owned(),
                })
                .collect();
            let fields = AchievementFields {
                title: Some(skill.title.into()),
                description: Some(skill.description.into()),
                criteria: Some(skill.criteria.into()),
                tags: Some(vec!["demo".into()]),
                level: Some(skill.level.into()),
                prerequisites: Some(prerequisites),
                ..AchievementFields::default()
            };
            let admin = &cast[admin_of(skill.community)];
            let community = self.community(skill.community)?;
            let artwork = super::artwork::badge_svg(
                skill.title,
                &community.name,
                Some(skill.level),
                super::artwork::hue_of(skill.community),
            );
            let image = self
                .store_file(
                    Some(admin),
                    skill.community,
                    &format!("{}.svg", skill.name),
                    artwork.as_bytes(),
                )
                .await?;
            let fields = AchievementFields {
                image: Some(image.sha256),
                ..fields
            };
            self.create_achievement(Some(admin), skill.community, skill.name, fields)
                .await?;
        }
        Ok(())
    }

    /// The assessors award badges; one, issued in error, is revoked; Felix endorses
    /// Ines's first soldering badge.
    async fn seed_awards(&self, cast: &Cast) -> NodeResult<()> {
        for (community, by, to, what, story) in AWARDS {
            let request = IssueRequest {
                recipient: (*to).into(),
                achievement: (*what).into(),
                narrative: Some((*story).into()),
                evidence: vec![EvidenceInput {
                    narrative: Some(format!("Assessed by {by} at {community}.")),
                    ..EvidenceInput::default()
                }],
                valid_from: None,
                valid_until: None,
                override_prerequisites: None,
            };
            self.issue_badge(Some(&cast[by]), community, request)
                .await?;
        }
        let mistake = IssueRequest {
            recipient: "ines".into(),
            achievement: "battery-safety".into(),
            narrative: Some("Recorded for the wrong person.".into()),
            evidence: Vec::new(),
            valid_from: None,
            valid_until: None,
            override_prerequisites: None,
        };
        let noor = Some(&cast["noor"]);
        let (mistake, _) = self.issue_badge(noor, "saltmarsh", mistake).await?;
        self.set_standing(noor, Some("saltmarsh"), &mistake.uuid, StatusChange::Revoke)
            .await?;
        let ines_l1 = self
            .badges_of("ines")?
            .into_iter()
            .find(|b| b.subject.ends_with("/soldering-l1"))
            .map(|b| b.credential["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        let endorsement = EndorseRequest {
            target: Some(ines_l1),
            comment: Some("I watched Ines solder her first board: careful and clean.".into()),
            credential: None,
        };
        self.endorse(Some(&cast["felix"]), endorsement).await?;
        Ok(())
    }
}

/// The logins the startup message lists.
fn demo_logins() -> Vec<DemoLogin> {
    let mut logins = vec![DemoLogin {
        username: "operator".into(),
        roles: "node operator (creates communities)".into(),
    }];
    for (username, memberships) in PEOPLE {
        let roles = memberships
            .iter()
            .map(|(slug, roles)| {
                let roles: BTreeSet<&str> = roles.iter().map(|r| r.as_str()).collect();
                format!(
                    "{} in {slug}",
                    roles.into_iter().collect::<Vec<_>>().join("+")
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        logins.push(DemoLogin {
            username: (*username).into(),
            roles,
        });
    }
    logins
}

/// Reviewers of a demo batch, and whether each finds an efficiency failure.
type Reviews = &'static [(&'static str, bool)];

/// The demo's batches: name, first and last serial number, reviews.
const BATCHES: &[(&str, u32, u32, Reviews)] = &[
    ("Spring run", 1, 50, &[("felix", false), ("bo", false)]),
    ("Summer run", 51, 80, &[("bo", false)]),
    ("Autumn run", 81, 100, &[("felix", true)]),
];

/// A serial number of the demo's MPPT20 controllers.
pub fn demo_serial(n: u32) -> String {
    format!("MPPT20-2026-{n:04}")
}

impl Node {
    /// The MPPT20 protocol (published by Lumen, with this node's achievement URLs) and
    /// three batches of Kestrel's: certified, pending and rejected.
    async fn seed_reviews(&self, cast: &Cast) -> NodeResult<()> {
        let source = self.localize_protocol(examples::MPPT20_BATCH_QA);
        let protocol = self
            .publish_protocol(Some(&cast["oskar"]), "lumen", PublishRequest { source })
            .await?;
        for (name, first, last, reviews) in BATCHES {
            let batch = self
                .register_batch(
                    Some(&cast["jun"]),
                    "kestrel",
                    RegisterRequest {
                        product: "MPPT20 12/24 V 20 A solar charge controller".into(),
                        protocol: protocol.hash.clone(),
                        lot_size: u64::from(last - first + 1),
                        serials: vec![format!("{}..{:04}", demo_serial(*first), last)],
                        production_date: "2026-10-01".into(),
                        notes: Some(format!("{name}: PCB rev C, MOSFETs from lot 4471.")),
                    },
                )
                .await?;
            for (i, (reviewer, fails)) in reviews.iter().enumerate() {
                // Each reviewer draws their own 13 units (the plan's sample for these lots).
                let sampled: Vec<String> = batch
                    .serials
                    .iter()
                    .cycle()
                    .skip(i * 13)
                    .take(13)
                    .cloned()
                    .collect();
                let results = mppt_results(&sampled, *fails);
                self.attest(
                    Some(&cast[reviewer]),
                    &batch.uuid,
                    AttestRequest {
                        sampled: Some(sampled),
                        results: Some(results),
                        verdict: Some(if *fails {
                            ReviewerVerdict::Fail
                        } else {
                            ReviewerVerdict::Pass
                        }),
                        credential: None,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// An example protocol with its reviewer achievements pointed at this node's
    /// communities (the examples' `ironbridge` is the demo's Saltmarsh).
    pub fn localize_protocol(&self, source: &str) -> String {
        let mut out = source.to_owned();
        for (example, slug) in [
            ("ironbridge", "saltmarsh"),
            ("lumen", "lumen"),
            ("kestrel", "kestrel"),
        ] {
            out = out.replace(
                &examples::achievement_prefix(example),
                &format!("{}/communities/{slug}/achievements/", self.public_url()),
            );
        }
        out
    }
}

/// Believable MPPT20 bench results for `sampled` units; with `fail`, the third unit's
/// efficiency is below the 94 % limit.
pub fn mppt_results(sampled: &[String], fail: bool) -> Vec<StepResult> {
    let mut results = Vec::new();
    for (i, serial) in sampled.iter().enumerate() {
        let wobble = (i % 5) as u32; // small unit-to-unit spread
        let efficiency = if fail && i == 2 {
            "92.8 %".to_owned()
        } else {
            format!("95.{} %", 4 + wobble)
        };
        let rows: [(&str, Recorded); 11] = [
            ("visual-solder", Recorded::Checked(true)),
            ("battery-detect", Recorded::Checked(true)),
            (
                "no-load-current",
                measured(&format!("1{}.{} mA", wobble, 2 + wobble)),
            ),
            ("efficiency-rated-load", measured(&efficiency)),
            (
                "absorption-voltage",
                measured(&format!("14.{} V", 38 + wobble)),
            ),
            ("float-voltage", measured(&format!("13.{} V", 77 + wobble))),
            (
                "low-voltage-disconnect",
                measured(&format!("11.{:02} V", 5 + wobble)),
            ),
            ("reverse-polarity-battery", Recorded::Checked(true)),
            ("reverse-polarity-pv", Recorded::Checked(true)),
            (
                "temperature-rise",
                measured(&format!("3{}.5 °C", 1 + wobble)),
            ),
            (
                "notes",
                Recorded::Noted(format!("Ambient {} °C, fan quiet.", 21 + wobble)),
            ),
        ];
        for (step, recorded) in rows {
            results.push(StepResult {
                serial: serial.clone(),
                step: step.into(),
                recorded,
            });
        }
    }
    results
}

fn measured(text: &str) -> Recorded {
    Recorded::Measured(text.parse().expect("demo quantities parse"))
}
