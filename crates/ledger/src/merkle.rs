//! RFC 9162 Merkle tree hashing, inclusion proofs and consistency proofs.
//!
//! Leaves are hashed as `SHA-256(0x00 || entry)` and interior nodes as
//! `SHA-256(0x01 || left || right)`; the hash of the empty tree is
//! `SHA-256("")` (RFC 9162 section 2.1.1).
//!
//! The subtree variants implement the generalisation used by Merkle Tree
//! Certificates (draft-ietf-plants-merkle-tree-certs, "subtrees" `[start, end)`),
//! of which the RFC 9162 proofs are the special case `start = 0`.
//!
//! Verification functions take hashes as byte slices and reject every hash that
//! is not exactly 32 bytes long ([`ProofError::HashLength`]).

use sha2::{Digest, Sha256};

/// Size of a SHA-256 hash in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 tree hash.
pub type Hash = [u8; HASH_SIZE];

/// The root hash of the empty tree: `SHA-256("")`.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Hash of a leaf (an entry): `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash (MTH) of a list of leaf hashes.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root_from_leaf_hashes(&leaves[..k]), &root_from_leaf_hashes(&leaves[k..]))
        }
    }
}

/// Why a proof was rejected or could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A hash (root, leaf or proof element) is not exactly 32 bytes.
    #[error("{what} is {len} bytes, a hash must be exactly 32")]
    HashLength {
        /// Which hash: "root", "leaf hash", "proof[3]", ...
        what: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The leaf index is not inside the tree (or subtree).
    #[error("index {index} is outside [{start}, {end})")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// First index of the (sub)tree.
        start: u64,
        /// One past the last index of the (sub)tree.
        end: u64,
    },
    /// The first tree is larger than the second one.
    #[error("size {from} is larger than size {to}")]
    SizeOrder {
        /// Size of the older tree (or end of the subtree).
        from: u64,
        /// Size of the newer tree.
        to: u64,
    },
    /// `[start, end)` is not a subtree (start must be a multiple of BIT_CEIL(end - start)).
    #[error("[{start}, {end}) is not a valid subtree")]
    InvalidSubtree {
        /// Subtree start.
        start: u64,
        /// Subtree end.
        end: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has {got} hashes, expected {expected}")]
    ProofLength {
        /// Hashes the proof must have.
        expected: usize,
        /// Hashes it has.
        got: usize,
    },
    /// The proof from the empty tree must be empty and start from the empty root.
    #[error("a proof from the empty tree must be empty and start from SHA-256(\"\")")]
    EmptyTree,
    /// The recomputed root does not match the expected root.
    #[error("recomputed {which} does not match")]
    RootMismatch {
        /// "root", "old root", "new root", "subtree hash".
        which: &'static str,
    },
    /// A hash needed to build a proof is not available.
    #[error("hash of node at level {level} index {index} is not available")]
    MissingNode {
        /// Level of the node (0 = leaves).
        level: u32,
        /// Index of the node in its level.
        index: u64,
    },
}

fn to_hash(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::HashLength { what: what(), len: bytes.len() })
}

fn to_hashes<H: AsRef<[u8]>>(proof: &[H]) -> Result<Vec<Hash>, ProofError> {
    proof.iter().enumerate().map(|(i, h)| to_hash(|| format!("proof[{i}]"), h.as_ref())).collect()
}

/// Whether `[start, end)` is a subtree: `start <= end` and `start` is a
/// multiple of `BIT_CEIL(end - start)`. The empty range is accepted.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start > end {
        return false;
    }
    let size = u128::from(end - start);
    let ceil = size.max(1).next_power_of_two();
    u128::from(start) % ceil == 0
}

/// Number of hashes in an inclusion proof for `index` in a tree of `size`.
fn inclusion_len(index: u64, size: u64) -> usize {
    if size <= 1 {
        return 0;
    }
    let k = split_point(size);
    1 + if index < k { inclusion_len(index, k) } else { inclusion_len(index - k, size - k) }
}

/// Root from an inclusion proof whose length has been checked.
fn inclusion_root(index: u64, size: u64, leaf: Hash, proof: &[Hash]) -> Hash {
    if size <= 1 {
        return leaf;
    }
    let (last, rest) = proof.split_last().expect("length checked");
    let k = split_point(size);
    if index < k {
        node_hash(&inclusion_root(index, k, leaf, rest), last)
    } else {
        node_hash(last, &inclusion_root(index - k, size - k, leaf, rest))
    }
}

/// Verifies that `leaf_hash` is the leaf at `index` in the tree of `size`
/// leaves whose root is `root` (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion<H: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[H],
    root: &[u8],
) -> Result<(), ProofError> {
    verify_subtree_inclusion(leaf_hash, index, 0, size, proof, root)
}

/// Verifies that `leaf_hash` is the leaf at `index` inside the subtree
/// `[start, end)` whose hash is `subtree_hash`.
pub fn verify_subtree_inclusion<H: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    start: u64,
    end: u64,
    proof: &[H],
    subtree_hash: &[u8],
) -> Result<(), ProofError> {
    let leaf = to_hash(|| "leaf hash".into(), leaf_hash)?;
    let root = to_hash(|| "root".into(), subtree_hash)?;
    let proof = to_hashes(proof)?;
    if start >= end || !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(ProofError::IndexOutOfRange { index, start, end });
    }
    let (i, n) = (index - start, end - start);
    let expected = inclusion_len(i, n);
    if proof.len() != expected {
        return Err(ProofError::ProofLength { expected, got: proof.len() });
    }
    if inclusion_root(i, n, leaf, &proof) != root {
        return Err(ProofError::RootMismatch { which: "root" });
    }
    Ok(())
}

/// Number of hashes in a subtree consistency proof for `[start, end)` inside `[lo, hi)`.
fn consistency_len(start: u64, end: u64, lo: u64, hi: u64, known: bool) -> usize {
    if start == lo && end == hi {
        return usize::from(!known);
    }
    let mid = lo + split_point(hi - lo);
    1 + if end <= mid {
        consistency_len(start, end, lo, mid, known)
    } else if start >= mid {
        consistency_len(start, end, mid, hi, known)
    } else {
        consistency_len(mid, end, mid, hi, false)
    }
}

/// Recomputes (old hash, new hash) from a consistency proof whose length has been checked.
fn consistency_roots(start: u64, end: u64, lo: u64, hi: u64, known: Option<&Hash>, proof: &[Hash]) -> (Hash, Hash) {
    if start == lo && end == hi {
        let h = match known {
            Some(h) => *h,
            None => proof[0],
        };
        return (h, h);
    }
    let (last, rest) = proof.split_last().expect("length checked");
    let mid = lo + split_point(hi - lo);
    if end <= mid {
        let (old, new) = consistency_roots(start, end, lo, mid, known, rest);
        (old, node_hash(&new, last))
    } else if start >= mid {
        let (old, new) = consistency_roots(start, end, mid, hi, known, rest);
        (old, node_hash(last, &new))
    } else {
        let (old, new) = consistency_roots(mid, end, mid, hi, None, rest);
        (node_hash(last, &old), node_hash(last, &new))
    }
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of
/// the tree of `size2` leaves with root `root2` (RFC 9162 section 2.1.4.2).
///
/// A proof from the empty tree (`size1 = 0`) is accepted only if it is empty
/// and `root1` is the empty-tree hash; it proves nothing more.
pub fn verify_consistency<H: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[H],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    verify_subtree_consistency(0, size1, size2, proof, root1, root2)
}

/// Verifies that the subtree `[start, end)` with hash `subtree_hash` is part of
/// the tree of `size` leaves with root `root`.
pub fn verify_subtree_consistency<H: AsRef<[u8]>>(
    start: u64,
    end: u64,
    size: u64,
    proof: &[H],
    subtree_hash: &[u8],
    root: &[u8],
) -> Result<(), ProofError> {
    let old = to_hash(|| "old root".into(), subtree_hash)?;
    let new = to_hash(|| "new root".into(), root)?;
    let proof = to_hashes(proof)?;
    if !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if end > size {
        return Err(ProofError::SizeOrder { from: end, to: size });
    }
    if start == end {
        if !proof.is_empty() || old != EMPTY_ROOT {
            return Err(ProofError::EmptyTree);
        }
        return Ok(());
    }
    let expected = consistency_len(start, end, 0, size, true);
    if proof.len() != expected {
        return Err(ProofError::ProofLength { expected, got: proof.len() });
    }
    let (got_old, got_new) = consistency_roots(start, end, 0, size, Some(&old), &proof);
    if got_old != old {
        return Err(ProofError::RootMismatch { which: "old root" });
    }
    if got_new != new {
        return Err(ProofError::RootMismatch { which: "new root" });
    }
    Ok(())
}

/// A source of hashes of complete (perfect) subtrees, used to build proofs.
pub trait HashSource {
    /// Hash of the perfect subtree of `2^level` leaves starting at leaf `index << level`.
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError>;
}

/// The Merkle tree hash of leaves `[lo, hi)`, where `lo` is a multiple of
/// `BIT_CEIL(hi - lo)` (as in every proof).
pub fn range_hash<S: HashSource + ?Sized>(src: &S, lo: u64, hi: u64) -> Result<Hash, ProofError> {
    let n = hi - lo;
    if n == 0 {
        return Ok(EMPTY_ROOT);
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return src.node(level, lo >> level);
    }
    let mid = lo + split_point(n);
    Ok(node_hash(&range_hash(src, lo, mid)?, &range_hash(src, mid, hi)?))
}

/// Builds the inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: HashSource + ?Sized>(src: &S, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, start: 0, end: size });
    }
    let mut out = Vec::with_capacity(64);
    inclusion_path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn inclusion_path<S: HashSource + ?Sized>(
    src: &S,
    index: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if hi - lo <= 1 {
        return Ok(());
    }
    let mid = lo + split_point(hi - lo);
    if index < mid {
        inclusion_path(src, index, lo, mid, out)?;
        out.push(range_hash(src, mid, hi)?);
    } else {
        inclusion_path(src, index, mid, hi, out)?;
        out.push(range_hash(src, lo, mid)?);
    }
    Ok(())
}

/// Builds the consistency proof from the tree of `size1` leaves to the tree of
/// `size2` leaves. The proof from the empty tree is empty.
pub fn consistency_proof<S: HashSource + ?Sized>(src: &S, size1: u64, size2: u64) -> Result<Vec<Hash>, ProofError> {
    subtree_consistency_proof(src, 0, size1, size2)
}

/// Builds the consistency proof of subtree `[start, end)` in the tree of `size` leaves.
pub fn subtree_consistency_proof<S: HashSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    if !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if end > size {
        return Err(ProofError::SizeOrder { from: end, to: size });
    }
    let mut out = Vec::with_capacity(64);
    if start < end {
        consistency_path(src, start, end, 0, size, true, &mut out)?;
    }
    Ok(out)
}

fn consistency_path<S: HashSource + ?Sized>(
    src: &S,
    start: u64,
    end: u64,
    lo: u64,
    hi: u64,
    known: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if start == lo && end == hi {
        if !known {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let mid = lo + split_point(hi - lo);
    if end <= mid {
        consistency_path(src, start, end, lo, mid, known, out)?;
        out.push(range_hash(src, mid, hi)?);
    } else if start >= mid {
        consistency_path(src, start, end, mid, hi, known, out)?;
        out.push(range_hash(src, lo, mid)?);
    } else {
        consistency_path(src, mid, end, mid, hi, false, out)?;
        out.push(range_hash(src, lo, mid)?);
    }
    Ok(())
}

/// An in-memory store of every complete subtree hash of a growing tree
/// (two hashes per leaf in total), enough to build any proof in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash, updating the complete subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let h = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(h);
            level += 1;
        }
    }

    /// Drops the leaves from index `size` on, and the subtrees they completed.
    pub fn truncate(&mut self, size: u64) {
        for (level, hashes) in self.levels.iter_mut().enumerate() {
            hashes.truncate(usize::try_from(size.checked_shr(level as u32).unwrap_or(0)).unwrap_or(usize::MAX));
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The complete subtree hashes at `level` (level 0 are the leaf hashes).
    pub fn level(&self, level: usize) -> &[Hash] {
        self.levels.get(level).map_or(&[], |l| l.as_slice())
    }

    /// The root hash of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeOrder { from: size, to: self.size() });
        }
        range_hash(self, 0, size)
    }
}

impl HashSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash, ProofError> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(ProofError::MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
        assert_eq!(root_from_leaf_hashes(&[]), EMPTY_ROOT);
    }

    #[test]
    fn a_truncated_tree_grows_again_as_if_never_longer() {
        let leaves: Vec<Hash> = (0..300u64).map(|n| leaf_hash(&n.to_be_bytes())).collect();
        for cut in [0, 1, 2, 3, 7, 8, 100, 255, 256, 257, 299] {
            let mut tree = MemoryTree::new();
            leaves.iter().for_each(|h| tree.push(*h));
            tree.truncate(cut);
            assert_eq!(tree.size(), cut);
            let mut short = MemoryTree::new();
            leaves[..cut as usize].iter().for_each(|h| short.push(*h));
            assert!(tree == short, "cut at {cut}: as if never longer");
            assert_eq!(tree.root(cut).unwrap(), root_from_leaf_hashes(&leaves[..cut as usize]));
            leaves[cut as usize..].iter().for_each(|h| tree.push(*h));
            let mut whole = MemoryTree::new();
            leaves.iter().for_each(|h| whole.push(*h));
            assert_eq!(tree.root(300).unwrap(), whole.root(300).unwrap(), "cut at {cut}");
            for level in 0..10 {
                assert_eq!(tree.level(level), whole.level(level), "cut at {cut}, level {level}");
            }
        }
    }

    #[test]
    fn proofs_roundtrip_on_all_small_trees() {
        let mut tree = MemoryTree::new();
        let mut leaves = Vec::new();
        for n in 1..=70u64 {
            let h = leaf_hash(&n.to_be_bytes());
            leaves.push(h);
            tree.push(h);
            let root = tree.root(n).unwrap();
            assert_eq!(root, root_from_leaf_hashes(&leaves));
            for i in 0..n {
                let p = inclusion_proof(&tree, i, n).unwrap();
                verify_inclusion(&leaves[i as usize], i, n, &p, &root).unwrap();
                assert!(verify_inclusion(&leaves[i as usize], (i + 1) % n, n, &p, &root).is_err() || n == 1);
            }
            for m in 0..=n {
                let p = consistency_proof(&tree, m, n).unwrap();
                let r1 = tree.root(m).unwrap();
                verify_consistency(m, n, &p, &r1, &root).unwrap();
                if m > 0 && m < n {
                    let mut bad = r1;
                    bad[0] ^= 1;
                    assert!(verify_consistency(m, n, &p, &bad, &root).is_err());
                }
            }
        }
    }
}
