//! Persons and communities: attestations grouped into persons through shared keys and
//! identities, and passing persons matched to distinct communities.

use std::collections::{BTreeMap, BTreeSet};

use super::judgement::Judged;
use super::Standing;

/// Attestations grouped by person: connected through shared keys or identities.
pub(super) struct Persons {
    /// For each attestation, its person.
    pub(super) of: Vec<usize>,
    /// For each person, their attestations.
    pub(super) members: Vec<Vec<usize>>,
}

impl Persons {
    pub(super) fn form(judged: &[Judged<'_>]) -> Persons {
        let relevant: Vec<usize> = (0..judged.len())
            .filter(|&i| judged[i].standing != Standing::Irrelevant)
            .collect();
        let mut parent: Vec<usize> = (0..judged.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in &relevant {
            let reviewer = judged[i].attestation.reviewer();
            for name in std::iter::once(&reviewer.key).chain(&reviewer.identities) {
                match owner.get(name.as_str()) {
                    Some(&j) => {
                        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                        // The smaller index is the root, so numbering follows the canonical order.
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        owner.insert(name, i);
                    }
                }
            }
        }
        let mut number: BTreeMap<usize, usize> = BTreeMap::new();
        let mut of = vec![0; judged.len()];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, slot) in of.iter_mut().enumerate() {
            let r = root(&mut parent, i);
            let next = number.len();
            let person = *number.entry(r).or_insert(next);
            if person == members.len() {
                members.push(Vec::new());
            }
            members[person].push(i);
            *slot = person;
        }
        Persons { of, members }
    }
}

/// A maximum matching of passing persons to distinct communities (Kuhn's augmenting
/// paths; persons and communities are few). Returns the communities matched.
pub(super) fn match_communities<'a>(passing: &[(usize, BTreeSet<&'a str>)]) -> BTreeSet<&'a str> {
    fn augment<'a>(
        person: usize,
        passing: &[(usize, BTreeSet<&'a str>)],
        taken: &mut BTreeMap<&'a str, usize>,
        visited: &mut BTreeSet<&'a str>,
    ) -> bool {
        for &community in &passing[person].1 {
            if !visited.insert(community) {
                continue;
            }
            let free = match taken.get(community) {
                None => true,
                Some(&other) => augment(other, passing, taken, visited),
            };
            if free {
                taken.insert(community, person);
                return true;
            }
        }
        false
    }
    let mut taken: BTreeMap<&str, usize> = BTreeMap::new();
    for person in 0..passing.len() {
        augment(person, passing, &mut taken, &mut BTreeSet::new());
    }
    taken.into_keys().collect()
}
