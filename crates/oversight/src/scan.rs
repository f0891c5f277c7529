//! Byte scans that the large audits run over every cell and every JSON string: 16 bytes at a time
//! in an SSE2 register on x86_64 (part of every x86_64 CPU), 8 bytes at a time in a `u64`
//! elsewhere. This module holds the crate's only `unsafe`: calls into SSE2 code, which is sound
//! because every x86_64 CPU has SSE2.

/// The first byte of `b` from `i` on that is one of `set`, or `b.len()`.
#[inline]
pub(crate) fn find_any<const N: usize>(b: &[u8], i: usize, set: [u8; N]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2, the only feature `sse2::find_any` enables, is part of the x86_64
        // baseline: every CPU that runs this build has it.
        unsafe { sse2::find_any(b, i, set) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        swar_find_any(b, i, set)
    }
}

/// Appends `b[i..]` to `out` up to the first byte a JSON string escapes (`"`, `\`, below 0x20);
/// returns that byte's position, or `None` when all the rest was appended.
#[inline]
pub(crate) fn copy_to_escape(out: &mut Vec<u8>, b: &[u8], i: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: as in `find_any`.
        unsafe { sse2::copy_to_escape(out, b, i) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let end = swar_next_to_escape(b, i);
        out.extend_from_slice(&b[i..end.unwrap_or(b.len())]);
        end
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// [`find_any`] 8 bytes at a time, in a `u64`.
#[inline]
fn swar_find_any<const N: usize>(b: &[u8], mut i: usize, set: [u8; N]) -> usize {
    while let Some(word) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // A byte's high bit is set where it equals a byte of `set`; bytes above the first such
        // byte may be marked too (a borrow), never bytes below it.
        let mut marks = 0;
        for c in set {
            let v = x ^ (ONES * u64::from(c));
            marks |= v.wrapping_sub(ONES) & !v;
        }
        marks &= HIGH;
        if marks != 0 {
            return i + (marks.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !set.contains(&b[i]) {
        i += 1;
    }
    i
}

/// The first byte of `b` from `i` on that a JSON string escapes, 8 bytes at a time in a `u64`.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn swar_next_to_escape(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(word) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let (quote, backslash) = (x ^ (ONES * u64::from(b'"')), x ^ (ONES * u64::from(b'\\')));
        // As in `swar_find_any`, with the bytes below 0x20 marked too.
        let marks = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if marks != 0 {
            return Some(i + (marks.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\').map(|p| i + p)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
    };

    /// 16 bytes in a register (two `u64` loads, which the compiler makes one).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(block: &[u8; 16]) -> __m128i {
        let lo = i64::from_le_bytes(block[..8].try_into().unwrap_or_default());
        let hi = i64::from_le_bytes(block[8..].try_into().unwrap_or_default());
        _mm_set_epi64x(hi, lo)
    }

    /// Bit k set where byte k of `block` is one of `set`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn any_of<const N: usize>(block: &[u8; 16], set: [u8; N]) -> u32 {
        let v = load(block);
        let mut hits = _mm_cmpeq_epi8(v, _mm_set1_epi8(set[0] as i8));
        for &c in &set[1..] {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)));
        }
        _mm_movemask_epi8(hits) as u32
    }

    /// 16 bytes at a time, and the last ones as the last 16 bytes again (those before `i` left
    /// out), or 8 at a time when `b` is shorter than 16.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn find_any<const N: usize>(b: &[u8], mut i: usize, set: [u8; N]) -> usize {
        while let Some(block) = b.get(i..i + 16) {
            let m = any_of(block.try_into().unwrap_or(&[0; 16]), set);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        match b.len().checked_sub(16) {
            Some(from) if i < b.len() => {
                let m = any_of(b[from..].try_into().unwrap_or(&[0; 16]), set) >> (i - from);
                if m != 0 {
                    i + m.trailing_zeros() as usize
                } else {
                    b.len()
                }
            }
            Some(_) => b.len(),
            None => super::swar_find_any(b, i, set),
        }
    }

    /// Bit k set where byte k of `block` is escaped in a JSON string.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn escaped(block: &[u8; 16]) -> u32 {
        let v = load(block);
        // Unsigned v <= 0x1f exactly where min(v, 0x1f) == v.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) as u32
    }

    /// 16 bytes at a time, and the last ones in one step: the last 16 bytes again (those before
    /// `i` left out), or the few left copied into a block padded with a byte never escaped.
    /// Appends each block whole (a copy of 16 bytes, with no call) and cuts what is not wanted.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn copy_to_escape(out: &mut Vec<u8>, b: &[u8], mut i: usize) -> Option<usize> {
        let start = i;
        out.reserve(b.len() - i + 16);
        while let Some(block) = b.get(i..i + 16) {
            let block: &[u8; 16] = block.try_into().unwrap_or(&[0; 16]);
            let m = escaped(block);
            out.extend_from_slice(block);
            if m != 0 {
                let k = m.trailing_zeros() as usize;
                out.truncate(out.len() - (16 - k));
                return Some(i + k);
            }
            i += 16;
        }
        let rest = b.len() - i;
        if rest == 0 {
            return None;
        }
        // `skip` bytes of the block come before i; they were appended by this call already.
        let (block, skip) = match b.len().checked_sub(16) {
            Some(from) if from >= start => (b[from..].try_into().unwrap_or([0; 16]), 16 - rest),
            _ => (padded(&b[i..]), 0),
        };
        let m = escaped(&block) >> skip;
        let k = if m != 0 { m.trailing_zeros() as usize } else { rest };
        out.truncate(out.len() - skip);
        out.extend_from_slice(&block);
        out.truncate(out.len() - (16 - skip - k));
        (m != 0).then_some(i + k)
    }

    /// `rest` (shorter than 16 bytes) at the start of a block of `a`s, copied in fixed-size
    /// pieces that may overlap (no call for a copy of variable length).
    #[inline]
    fn padded(rest: &[u8]) -> [u8; 16] {
        let n = rest.len();
        let mut block = [b'a'; 16];
        if n >= 8 {
            block[..8].copy_from_slice(&rest[..8]);
            block[n - 8..n].copy_from_slice(&rest[n - 8..]);
        } else if n >= 4 {
            block[..4].copy_from_slice(&rest[..4]);
            block[n - 4..n].copy_from_slice(&rest[n - 4..]);
        } else {
            block[..n].copy_from_slice(rest);
        }
        block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SSE2 and `u64` scans agree with a plain search, at every length and position.
    #[test]
    fn scans_find_what_a_plain_search_finds() {
        let plain_any =
            |b: &[u8], i: usize, set: &[u8]| b[i..].iter().position(|c| set.contains(c)).map_or(b.len(), |p| i + p);
        let plain_escape =
            |b: &[u8], i: usize| b[i..].iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\').map(|p| i + p);
        for len in 0..48 {
            for at in 0..=len {
                for c in [b',', b'"', b'\n', b'\r', b'\\', 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xff] {
                    let mut b: Vec<u8> = (0..len).map(|k| b'a' + (k % 26) as u8).collect();
                    if at < len {
                        b[at] = c;
                    }
                    for from in [0, at / 2, at] {
                        let set = [b',', b'\n', b'\r', b'"'];
                        assert_eq!(find_any(&b, from, set), plain_any(&b, from, &set), "{b:?} from {from}");
                        assert_eq!(swar_find_any(&b, from, set), plain_any(&b, from, &set), "{b:?} from {from}");
                        assert_eq!(swar_next_to_escape(&b, from), plain_escape(&b, from), "{b:?} from {from}");
                        let mut out = b"prefix".to_vec();
                        let end = copy_to_escape(&mut out, &b, from);
                        assert_eq!(end, plain_escape(&b, from), "{b:?} from {from}");
                        assert_eq!(out[6..], b[from..end.unwrap_or(b.len())], "{b:?} from {from}");
                    }
                }
            }
        }
    }
}
