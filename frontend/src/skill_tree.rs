//! A community's achievements drawn as a skill tree: prerequisites are edges, and on a
//! member's view each achievement is earned, available (every prerequisite earned) or
//! locked.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;

use crate::node::AchievementView;

const WIDTH: i64 = 236;
const HEIGHT: i64 = 64;
/// Characters per line of a node's title (two lines, beside the image).
const LINE: usize = 21;
const GAP_X: i64 = 60;
const GAP_Y: i64 = 18;

/// Where each achievement goes: its column is its depth (the longest chain of
/// prerequisites within the community), its row its place in that column.
fn layout(achievements: &[AchievementView]) -> BTreeMap<String, (i64, i64)> {
    // Longest chains by relaxation; at most one pass per achievement, so a bad record
    // with a cycle (the node refuses them) cannot loop forever.
    let mut depth: BTreeMap<&str, i64> = achievements.iter().map(|a| (a.id.as_str(), 0)).collect();
    for _ in 0..achievements.len() {
        let mut changed = false;
        for a in achievements {
            let d = a
                .prerequisites
                .iter()
                .filter_map(|p| depth.get(p.as_str()))
                .map(|d| d + 1)
                .max()
                .unwrap_or(0);
            if d > depth[a.id.as_str()] {
                depth.insert(&a.id, d);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: BTreeMap<i64, i64> = BTreeMap::new();
    let mut placed = BTreeMap::new();
    for a in achievements {
        let column = depth[a.id.as_str()];
        let row = rows.entry(column).or_default();
        placed.insert(a.id.clone(), (column, *row));
        *row += 1;
    }
    placed
}

/// The state of an achievement for someone who holds `held`.
pub fn state(achievement: &AchievementView, held: &BTreeSet<String>) -> &'static str {
    if held.contains(&achievement.id) {
        "earned"
    } else if achievement.prerequisites.iter().all(|p| held.contains(p)) {
        "available"
    } else {
        "locked"
    }
}

/// A title on at most two lines of [`LINE`] characters, broken between words; only a
/// title longer than both lines loses its end (to "…"; the tooltip has it whole).
fn lines(title: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for word in title.split_whitespace() {
        let current = out.last_mut().expect("one line at least");
        let fits =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count()
                <= LINE;
        if current.is_empty() || fits {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        } else {
            out.push(word.to_owned());
        }
    }
    if out.len() > 2 || out.iter().any(|l| l.chars().count() > LINE) {
        out.truncate(2);
        for line in &mut out {
            if line.chars().count() > LINE {
                *line = format!("{}…", line.chars().take(LINE - 1).collect::<String>());
            }
        }
        let last = out.last_mut().expect("two lines");
        if !last.ends_with('…') {
            let keep: String = last.chars().take(LINE - 1).collect();
            *last = format!("{keep}…");
        }
    }
    out
}

/// The skill tree of `achievements`; with `held`, coloured for that member.
#[component]
pub fn SkillTree(
    achievements: Vec<AchievementView>,
    #[prop(optional)] held: Option<BTreeSet<String>>,
    #[prop(into)] label: String,
) -> impl IntoView {
    if achievements.is_empty() {
        return view! { <p class="muted">"No achievements defined yet."</p> }.into_any();
    }
    let placed = layout(&achievements);
    let columns = placed.values().map(|(c, _)| *c).max().unwrap_or(0) + 1;
    let rows = placed.values().map(|(_, r)| *r).max().unwrap_or(0) + 1;
    let width = columns * (WIDTH + GAP_X) - GAP_X + 20;
    let height = rows * (HEIGHT + GAP_Y) - GAP_Y + 20;
    let at = |id: &str| {
        placed
            .get(id)
            .map(|(c, r)| (10 + c * (WIDTH + GAP_X), 10 + r * (HEIGHT + GAP_Y)))
    };
    let mut edges = Vec::new();
    for a in &achievements {
        let Some((x2, y2)) = at(&a.id) else { continue };
        for p in &a.prerequisites {
            if let Some((x1, y1)) = at(p) {
                let (sx, sy, ex, ey) = (x1 + WIDTH, y1 + HEIGHT / 2, x2, y2 + HEIGHT / 2);
                let mid = (sx + ex) / 2;
                edges.push(format!("M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}"));
            }
        }
    }
    let edges = edges
        .into_iter()
        .map(|d| view! { <path class="edge" d=d marker-end="url(#arrow)"/> })
        .collect_view();
    let nodes = achievements
        .iter()
        .map(|a| {
            let (x, y) = at(&a.id).unwrap_or((0, 0));
            let state = held.as_ref().map(|h| state(a, h)).unwrap_or("neutral");
            let href = format!("/c/{}/a/{}", a.community, a.name);
            let level = a
                .level
                .clone()
                .map(|l| format!("level {l} · {state}"))
                .unwrap_or_else(|| state.to_owned());
            let tip = format!("{} — {}", a.title, state);
            let image = a.image.clone().map(|src| {
                view! { <image href=src x=x + 8 y=y + 10 width="44" height="44"/> }
            });
            let text_x = if a.image.is_some() { x + 60 } else { x + 10 };
            let title = lines(&a.title);
            let sub_y = y + 24 + 16 * title.len() as i64;
            let title = title
                .into_iter()
                .enumerate()
                .map(|(i, line)| {
                    view! { <text x=text_x y=y + 21 + 16 * i as i64 class="node-title">{line}</text> }
                })
                .collect_view();
            view! {
                <a href=href class=format!("node node-{state}")>
                    <title>{tip}</title>
                    <rect x=x y=y width=WIDTH height=HEIGHT rx="8"/>
                    {image}
                    {title}
                    <text x=text_x y=sub_y class="node-sub">{level}</text>
                </a>
            }
        })
        .collect_view();
    view! {
        <figure class="tree">
            <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="img" aria-label=label.clone()>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
                        <path d="M0,0 L10,5 L0,10 z" class="arrowhead"/>
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
            <figcaption>{label}</figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn achievement(id: &str, prerequisites: &[&str]) -> AchievementView {
        AchievementView {
            id: id.into(),
            community: "c".into(),
            name: id.into(),
            title: id.into(),
            description: String::new(),
            criteria: String::new(),
            image: None,
            level: None,
            tags: vec![],
            prerequisites: prerequisites.iter().map(|p| p.to_string()).collect(),
            protocol: None,
        }
    }

    #[test]
    fn columns_follow_the_longest_prerequisite_chain() {
        let tree = [
            achievement("reviewer", &["l2", "safety"]),
            achievement("l1", &[]),
            achievement("l2", &["l1"]),
            achievement("safety", &[]),
        ];
        let placed = layout(&tree);
        assert_eq!(placed["l1"].0, 0);
        assert_eq!(placed["safety"].0, 0);
        assert_eq!(placed["l2"].0, 1);
        assert_eq!(placed["reviewer"].0, 2);
        assert_ne!(placed["l1"], placed["safety"]);
    }

    #[test]
    fn titles_wrap_onto_two_lines_instead_of_being_cut() {
        assert_eq!(
            lines("MPPT controller assembly"),
            ["MPPT controller", "assembly"]
        );
        assert_eq!(
            lines("Power-electronics reviewer"),
            ["Power-electronics", "reviewer"]
        );
        assert_eq!(lines("Soldering"), ["Soldering"]);
        let long = lines("A very long achievement title that will not fit on two lines");
        assert_eq!(long.len(), 2);
        assert!(long[1].ends_with('…') && long[1].chars().count() <= LINE);
    }

    #[test]
    fn states_for_a_member() {
        let l2 = achievement("l2", &["l1"]);
        let held = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(state(&l2, &held(&[])), "locked");
        assert_eq!(state(&l2, &held(&["l1"])), "available");
        assert_eq!(state(&l2, &held(&["l1", "l2"])), "earned");
    }
}
