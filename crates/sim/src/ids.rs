//! Deterministic ids: a small keyed hash, and the openid/unionid codecs.
//!
//! Followers are never stored: follower `i` of account `a` has the openid `encode(a, i)`, and an
//! incoming openid is decoded back to `(a, i)` (or rejected). That keeps a million followers per
//! account at zero memory, and lets every API answer "is this a follower?" in O(1).

/// The URL-safe alphabet real openids use.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// splitmix64 finaliser: a good 64-bit mixer, stable forever (unlike std's hasher).
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a sequence of words under a seed.
pub fn hash(seed: u64, parts: &[u64]) -> u64 {
    let mut h = mix(seed ^ 0x5157_4445_534B);
    for p in parts {
        h = mix(h ^ *p);
    }
    h
}

/// Hash of a string (FNV-1a, then mixed), for keys given as text.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A uniform float in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// `len` alphabet characters drawn from a hash stream.
pub fn chars(seed: u64, parts: &[u64], len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut h = hash(seed, parts);
    let mut left = 10;
    for _ in 0..len {
        if left == 0 {
            h = mix(h);
            left = 10;
        }
        out.push(ALPHABET[(h & 63) as usize] as char);
        h >>= 6;
        left -= 1;
    }
    out
}

/// Characters from [a-z0-9], for things like gh_ ids and wx appids.
pub fn hex_like(seed: u64, parts: &[u64], len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(len);
    let mut h = hash(seed, parts);
    let mut left = 16;
    for _ in 0..len {
        if left == 0 {
            h = mix(h);
            left = 16;
        }
        out.push(HEX[(h & 15) as usize] as char);
        h >>= 4;
        left -= 1;
    }
    out
}

fn feistel_round(key: u64, round: u64, half: u32) -> u32 {
    (mix(key ^ (round << 32) ^ u64::from(half)) & 0xFFFF) as u32
}

/// A keyed permutation of u32 (4-round Feistel), so consecutive follower indexes give openids
/// that look unrelated.
fn permute(key: u64, x: u32) -> u32 {
    let (mut l, mut r) = (x >> 16, x & 0xFFFF);
    for round in 0..4 {
        let nl = r;
        let nr = l ^ feistel_round(key, round, r);
        l = nl;
        r = nr;
    }
    (l << 16) | r
}

fn unpermute(key: u64, y: u32) -> u32 {
    let (mut l, mut r) = (y >> 16, y & 0xFFFF);
    for round in (0..4).rev() {
        let pr = l;
        let pl = r ^ feistel_round(key, round, l);
        l = pl;
        r = pr;
    }
    (l << 16) | r
}

fn encode6(mut v: u32) -> [u8; 6] {
    let mut out = [b'A'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v & 63) as usize];
        v >>= 6;
    }
    out
}

fn decode6(s: &[u8]) -> Option<u32> {
    let mut v: u64 = 0;
    for &c in s {
        let d = ALPHABET.iter().position(|&a| a == c)? as u64;
        v = (v << 6) | d;
    }
    u32::try_from(v).ok()
}

/// The codec of one id space (one account's openids, or one principal's unionids): 28 chars,
/// `first` + a 5-char tag naming the space + 6 chars of the permuted index + 16 check chars.
#[derive(Debug, Clone)]
pub struct IdCodec {
    seed: u64,
    key: u64,
    first: char,
    tag: String,
}

impl IdCodec {
    pub fn new(seed: u64, key: u64, first: char) -> Self {
        let tag = chars(seed, &[key, 0x0074_6167], 5);
        IdCodec {
            seed,
            key,
            first,
            tag,
        }
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn encode(&self, index: u32) -> String {
        let mut s = String::with_capacity(28);
        s.push(self.first);
        s.push_str(&self.tag);
        for b in encode6(permute(self.seed ^ self.key, index)) {
            s.push(b as char);
        }
        s.push_str(&chars(self.seed, &[self.key, u64::from(index)], 16));
        s
    }

    /// The index an id encodes, if it is a well-formed id of this space.
    pub fn decode(&self, id: &str) -> Option<u32> {
        let b = id.as_bytes();
        if b.len() != 28 || !id.is_ascii() || !id.starts_with(self.first) || id[1..6] != self.tag {
            return None;
        }
        let index = unpermute(self.seed ^ self.key, decode6(&b[6..12])?);
        (id[12..] == chars(self.seed, &[self.key, u64::from(index)], 16)).then_some(index)
    }
}

/// A random opaque token of `len` alphanumeric chars behind a recognisable prefix.
pub fn random_token(prefix: &str, len: usize) -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    let mut s = String::with_capacity(prefix.len() + len);
    s.push_str(prefix);
    s.extend(
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from),
    );
    s
}

/// A WeChat-style trace id: ` rid: xxxxxxxx-xxxxxxxx-xxxxxxxx`.
pub fn rid() -> String {
    use rand::Rng;
    let mut r = rand::rng();
    format!(
        " rid: {:08x}-{:08x}-{:08x}",
        r.random::<u32>(),
        r.random::<u32>(),
        r.random::<u32>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openids_round_trip_and_look_like_real_ones() {
        let c = IdCodec::new(42, 7, 'o');
        for i in [0u32, 1, 2, 999_999, u32::MAX] {
            let id = c.encode(i);
            assert_eq!(id.len(), 28);
            assert!(id.starts_with('o'));
            assert_eq!(c.decode(&id), Some(i));
        }
        assert_ne!(c.encode(0)[6..12], c.encode(1)[6..12]);
    }

    #[test]
    fn foreign_or_tampered_ids_do_not_decode() {
        let a = IdCodec::new(42, 7, 'o');
        let b = IdCodec::new(42, 8, 'o');
        let id = a.encode(5);
        assert_eq!(b.decode(&id), None);
        let mut tampered = id.clone().into_bytes();
        tampered[27] = if tampered[27] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            a.decode(&String::from_utf8(tampered).unwrap_or_default()),
            None
        );
        assert_eq!(a.decode("oXYZ"), None);
        assert_eq!(a.decode("o中文中文中文中文中文"), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_ids() {
        assert_eq!(
            IdCodec::new(1, 2, 'o').encode(3),
            IdCodec::new(1, 2, 'o').encode(3)
        );
        assert_ne!(
            IdCodec::new(1, 2, 'o').encode(3),
            IdCodec::new(9, 2, 'o').encode(3)
        );
    }
}
