//! The ledger's bounded in-memory part of its Merkle tree, and a bounded
//! cache of hash tiles read back from storage.
//!
//! Memory invariant: at every Merkle level `l` (tile level `L = l / 8`,
//! `k = l % 8`), [`RecentTree`] holds the complete node hashes from the first
//! node of tile `(L, B >> (8L + 8))` on, where `B` is the size it was last
//! pruned to (the last published checkpoint): the nodes of the right-most,
//! partial tile of every tile level, and everything not yet published. Every
//! older node lies inside a *full* hash tile that a checkpoint has already
//! made durable, so proofs read it back from storage ([`Tile`]). The size is
//! therefore `O(256 · levels + unpublished entries)`, independent of the log's
//! length.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::merkle::{node_hash, Hash, HashSource, ProofError};
use crate::tiles::{TILE_HEIGHT, TILE_WIDTH};

/// Complete nodes `start..start + hashes.len()` of one Merkle level.
#[derive(Debug, Default, Clone)]
struct Level {
    start: u64,
    hashes: Vec<Hash>,
}

/// The right edge of a growing tree: every complete node hash not yet
/// covered by a full, published hash tile.
#[derive(Debug, Default, Clone)]
pub(crate) struct RecentTree {
    size: u64,
    levels: Vec<Level>,
}

/// First node index kept in memory at Merkle `level` after pruning to `published`.
fn kept_from(level: u32, published: u64) -> u64 {
    let tile_level = level / TILE_HEIGHT * TILE_HEIGHT;
    let k = level % TILE_HEIGHT;
    // Full tiles at this tile level, times the nodes of this level per tile.
    published.checked_shr(tile_level + TILE_HEIGHT).unwrap_or(0) << (TILE_HEIGHT - k)
}

impl RecentTree {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Number of hashes held.
    pub(crate) fn held(&self) -> usize {
        self.levels.iter().map(|l| l.hashes.len()).sum()
    }

    /// Appends a leaf hash, computing the complete subtrees it closes.
    pub(crate) fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Level::default());
        }
        self.levels[0].hashes.push(leaf);
        self.size += 1;
        let mut l = 0;
        loop {
            let level = &self.levels[l];
            let complete = level.start + level.hashes.len() as u64;
            if !complete.is_multiple_of(2) {
                break;
            }
            // `start` is even, so the left sibling is held.
            let n = level.hashes.len();
            let h = node_hash(&level.hashes[n - 2], &level.hashes[n - 1]);
            if self.levels.len() == l + 1 {
                // A level appears with its first node, so it starts at 0.
                self.levels.push(Level::default());
            }
            self.levels[l + 1].hashes.push(h);
            l += 1;
        }
    }

    /// The hash of complete node `index` at `level`, if held.
    pub(crate) fn get(&self, level: u32, index: u64) -> Option<Hash> {
        let l = self.levels.get(level as usize)?;
        let i = usize::try_from(index.checked_sub(l.start)?).ok()?;
        l.hashes.get(i).copied()
    }

    /// Complete nodes `lo..hi` of `level`, if all are held.
    pub(crate) fn range(&self, level: u32, lo: u64, hi: u64) -> Option<&[Hash]> {
        if lo == hi {
            return Some(&[]);
        }
        let l = self.levels.get(level as usize)?;
        let a = usize::try_from(lo.checked_sub(l.start)?).ok()?;
        let b = usize::try_from(hi.checked_sub(l.start)?).ok()?;
        l.hashes.get(a..b)
    }

    /// Forgets every node inside a full hash tile of the tree of `published`
    /// leaves. Call only once those tiles are durable in storage; `published`
    /// must not decrease and must not exceed [`RecentTree::size`].
    pub(crate) fn prune(&mut self, published: u64) {
        for (l, level) in self.levels.iter_mut().enumerate() {
            let from = kept_from(l as u32, published.min(self.size));
            if from > level.start {
                let drop = usize::try_from(from - level.start).unwrap_or(usize::MAX).min(level.hashes.len());
                level.hashes.drain(..drop);
                level.start = from;
                if level.hashes.capacity() > 4 * level.hashes.len() + 1024 {
                    level.hashes.shrink_to(2 * level.hashes.len());
                }
            }
        }
    }
}

/// Memory-only view (for checks at open, where the peaks of the published
/// tree are always held).
impl HashSource for RecentTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.get(level, index).ok_or(ProofError::MissingNode { level, index })
    }
}

/// A full hash tile expanded to its 9 Merkle levels (`levels[k]` holds the
/// `256 >> k` nodes of Merkle level `8L + k`; `levels[8][0]` is the tile's root).
#[derive(Debug)]
pub(crate) struct Tile {
    levels: Vec<Vec<Hash>>,
}

impl Tile {
    /// Expands the 256 hashes of a full tile; `None` if `data` is not 256 hashes.
    pub(crate) fn parse(data: &[u8]) -> Option<Self> {
        if data.len() != TILE_WIDTH as usize * 32 {
            return None;
        }
        let mut levels: Vec<Vec<Hash>> =
            vec![data.chunks_exact(32).map(|c| c.try_into().expect("32-byte chunks")).collect()];
        for _ in 0..TILE_HEIGHT {
            let prev = levels.last().expect("non-empty");
            let next = prev.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
            levels.push(next);
        }
        Some(Self { levels })
    }

    /// The tile's root: node `N` of Merkle level `8L + 8` for tile `(L, N)`.
    pub(crate) fn root(&self) -> Hash {
        self.levels[TILE_HEIGHT as usize][0]
    }

    /// Node `index_in_tile` of Merkle level `8L + k`.
    pub(crate) fn node(&self, k: u32, index_in_tile: u64) -> Option<Hash> {
        self.levels.get(k as usize)?.get(usize::try_from(index_in_tile).ok()?).copied()
    }
}

/// A bounded cache of verified tiles, keyed by (tile level, tile index);
/// the oldest entry is evicted first.
#[derive(Debug)]
pub(crate) struct TileCache {
    map: HashMap<(u32, u64), Arc<Tile>>,
    order: VecDeque<(u32, u64)>,
    capacity: usize,
}

/// Hashes one cached tile holds (256 + 128 + ... + 1).
pub(crate) const HASHES_PER_TILE: usize = 2 * TILE_WIDTH as usize - 1;

impl TileCache {
    /// A cache of at most `capacity` tiles.
    pub(crate) fn new(capacity: usize) -> Self {
        Self { map: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    pub(crate) fn get(&self, key: (u32, u64)) -> Option<Arc<Tile>> {
        self.map.get(&key).cloned()
    }

    pub(crate) fn insert(&mut self, key: (u32, u64), tile: Arc<Tile>) {
        if self.map.insert(key, tile).is_none() {
            self.order.push_back(key);
        }
        while self.map.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
    }

    /// Number of tiles held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, MemoryTree};

    #[test]
    fn holds_what_the_full_tree_holds_from_the_kept_tiles_on() {
        let mut full = MemoryTree::new();
        let mut recent = RecentTree::new();
        let mut published = 0;
        for i in 0..200_000u64 {
            let h = leaf_hash(&i.to_be_bytes());
            full.push(h);
            recent.push(h);
            if i % 7919 == 0 {
                published = i + 1 - (i % 3);
                recent.prune(published);
            }
        }
        for level in 0..18u32 {
            let all = full.level(level as usize);
            let from = kept_from(level, published);
            for (i, h) in all.iter().enumerate() {
                assert_eq!(recent.get(level, i as u64), (i as u64 >= from).then_some(*h), "level {level} node {i}");
            }
        }
        // The peaks of the published tree are held: its root needs no tile.
        assert_eq!(crate::merkle::root_from_leaf_hashes(&full.level(0)[..published as usize]), {
            crate::merkle::range_hash(&recent, 0, published).unwrap()
        });
        assert!(recent.held() < 4 * 256 * 3 + 2 * (200_000 - published as usize), "held {}", recent.held());
    }

    #[test]
    fn tile_levels_match_the_tree() {
        let mut full = MemoryTree::new();
        for i in 0..1024u64 {
            full.push(leaf_hash(&i.to_be_bytes()));
        }
        let tile = Tile::parse(&full.level(0)[256..512].concat()).unwrap();
        for k in 0..=8u32 {
            for j in 0..(256u64 >> k) {
                assert_eq!(tile.node(k, j), Some(full.level(k as usize)[((256 >> k) + j) as usize]));
            }
        }
        assert_eq!(tile.root(), full.level(8)[1]);
        assert!(Tile::parse(&[0; 31]).is_none());
    }
}
