//! C2SP tlog-tiles paths (<https://c2sp.org/tlog-tiles>), shared by the log that serves
//! tiles and the clients that read them.
//!
//! Tiles have height 8: tile `N` at level `L` holds hashes `N·256 .. N·256+255` of tree
//! level `8·L`. `N` is written in groups of three digits, all but the last prefixed with
//! `x` (1234067 → `x001/x234/067`); a partial tile of width `W` adds `.p/W`.

use std::fmt;

/// Hashes (or entries) per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;
/// The highest tile level the spec allows.
pub const MAX_TILE_LEVEL: u8 = 63;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hashes at tile level `L`.
    Hash(u8),
    /// An entry bundle: the entries whose leaf hashes are in level-0 tile `N`.
    Entries,
}

/// A tile or entry bundle, full (`width == 256`) or partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Hash tile level or entry bundle.
    pub kind: TileKind,
    /// Tile index at its level.
    pub index: u64,
    /// Number of hashes or entries, 1..=256.
    pub width: u16,
}

/// Why a path is not a tile path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a tile path: {0}")]
pub struct TilePathError(pub &'static str);

impl Tile {
    /// Whether this is a full tile (immutable once it exists).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// Parses a path relative to the log prefix, e.g. `tile/1/x001/234.p/17`.
    pub fn parse(path: &str) -> Result<Tile, TilePathError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TilePathError("must start with tile/"))?;
        let (kind, rest) = match rest.split_once('/') {
            Some(("entries", rest)) => (TileKind::Entries, rest),
            Some((level, rest)) => {
                if level.is_empty()
                    || level.len() > 2
                    || !level.bytes().all(|b| b.is_ascii_digit())
                    || (level.len() == 2 && level.starts_with('0'))
                {
                    return Err(TilePathError("the level must be a number from 0 to 63"));
                }
                let level: u8 = level.parse().map_err(|_| TilePathError("bad level"))?;
                if level > MAX_TILE_LEVEL {
                    return Err(TilePathError("the level must be a number from 0 to 63"));
                }
                (TileKind::Hash(level), rest)
            }
            None => return Err(TilePathError("missing the tile index")),
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                if width.is_empty()
                    || width.len() > 3
                    || width.starts_with('0')
                    || !width.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(TilePathError(
                        "a partial width must be a number from 1 to 255",
                    ));
                }
                let width: u16 = width.parse().map_err(|_| TilePathError("bad width"))?;
                if width == 0 || u64::from(width) >= TILE_WIDTH {
                    return Err(TilePathError(
                        "a partial width must be a number from 1 to 255",
                    ));
                }
                (index, width)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let mut index: u64 = 0;
        for (i, group) in groups.iter().enumerate() {
            let last = i == groups.len() - 1;
            let digits = if last {
                *group
            } else {
                group
                    .strip_prefix('x')
                    .ok_or(TilePathError("index groups before the last start with x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TilePathError("index groups have three digits"));
            }
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(digits.parse::<u64>().unwrap_or(0)))
                .ok_or(TilePathError("index too large"))?;
        }
        // The encoding is canonical: no leading all-zero groups.
        if groups.len() > 1 && groups[0] == "x000" {
            return Err(TilePathError("non-canonical index (leading x000)"));
        }
        Ok(Tile { kind, index, width })
    }

    /// The path of this tile, e.g. `tile/0/x001/234.p/17`.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// The tiles that exist for a tree of `size` entries, hash tiles level by level,
    /// then entry bundles (partial tiles only where the level's count is not a multiple
    /// of 256).
    pub fn inventory(size: u64) -> Vec<Tile> {
        let mut tiles = Vec::new();
        let mut level = 0u8;
        loop {
            let count = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
            if count == 0 {
                break;
            }
            push_tiles(&mut tiles, TileKind::Hash(level), count);
            level += 1;
        }
        push_tiles(&mut tiles, TileKind::Entries, size);
        tiles
    }

    /// The width of tile `index` at hash level `level` in a tree of `size`, if it exists.
    pub fn width_in(level: u8, index: u64, size: u64) -> Option<u16> {
        let count = size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))?;
        let start = index.checked_mul(TILE_WIDTH)?;
        match count.checked_sub(start)? {
            0 => None,
            n => Some(n.min(TILE_WIDTH) as u16),
        }
    }
}

fn push_tiles(tiles: &mut Vec<Tile>, kind: TileKind, count: u64) {
    for index in 0..count / TILE_WIDTH {
        tiles.push(Tile {
            kind,
            index,
            width: TILE_WIDTH as u16,
        });
    }
    if !count.is_multiple_of(TILE_WIDTH) {
        tiles.push(Tile {
            kind,
            index: count / TILE_WIDTH,
            width: (count % TILE_WIDTH) as u16,
        });
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hash(level) => write!(f, "tile/{level}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        write_index(f, self.index)?;
        if !self.is_full() {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

fn write_index(f: &mut fmt::Formatter<'_>, index: u64) -> fmt::Result {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    for (i, group) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            write!(f, "x{group:03}/")?;
        } else {
            write!(f, "{group:03}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! tile_path {
        ($name:ident, $kind:expr, $index:expr, $width:expr, $path:expr) => {
            #[test]
            fn $name() {
                let tile = Tile {
                    kind: $kind,
                    index: $index,
                    width: $width,
                };
                assert_eq!(tile.path(), $path);
                assert_eq!(Tile::parse($path).unwrap(), tile);
            }
        };
    }

    tile_path!(first, TileKind::Hash(0), 0, 256, "tile/0/000");
    tile_path!(
        spec_example,
        TileKind::Hash(0),
        1_234_067,
        256,
        "tile/0/x001/x234/067"
    );
    tile_path!(partial, TileKind::Hash(1), 3, 17, "tile/1/003.p/17");
    tile_path!(
        entries_partial,
        TileKind::Entries,
        0,
        255,
        "tile/entries/000.p/255"
    );
    tile_path!(level_63, TileKind::Hash(63), 999, 1, "tile/63/999.p/1");

    #[test]
    fn bad_paths_are_refused() {
        for bad in [
            "tile/0/00",
            "tile/0/0000",
            "tile/64/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/x/000",
            "tile/0/x000/001",
            "tile/0/1a3",
            "tiles/0/000",
            "tile/0/",
            "tile/entries/000.p/",
            "tile/00/000",
            "tile/0/000/",
            "tile/0/y001/000",
        ] {
            assert!(Tile::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
