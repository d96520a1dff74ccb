//! 新增临时素材 (`POST /cgi-bin/media/upload?type=image`, multipart field `media`): the cover of a
//! customer-service mini-program card. Ids live 3 days on the sim clock; a card whose
//! `thumb_media_id` is unknown, of another account or expired is refused with 40007
//! ([`check_thumb`]), as WeChat does with an expired temporary media.
//!
//! The sim models images only (JPEG, PNG, GIF, up to 10 MB). The errcodes WeChat uses for a bad
//! upload are not all documented per case; the sim answers: wrong or missing `type` → 40004, no
//! multipart `media` file part → 41005, empty or larger than 10 MB → 40006, not an image by its
//! first bytes → 40005.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use axum::routing::{MethodRouter, any};
use serde_json::{Value, json};

use super::{Query, account_caller, json_response, parse_query};
use crate::server::PeerIp;
use crate::sim::Sim;
use crate::state::{ApiErr, ApiResult};
use crate::world::Account;

/// WeChat's limit for an image (its 素材 page: 10M).
pub const IMAGE_MAX_BYTES: usize = 10 * 1024 * 1024;
/// The body limit of this route: the largest image plus room for the multipart framing, so an
/// image just over the limit is answered with WeChat's errcode rather than HTTP 413.
pub const BODY_LIMIT: usize = IMAGE_MAX_BYTES + 1024 * 1024;
/// How long a temporary media id works.
pub const MEDIA_TTL_SECS: i64 = 3 * 24 * 3600;
/// Media ids kept; the oldest go first beyond it (a sim that runs for days stays bounded).
const MAX_MEDIA: usize = 10_000;

/// One uploaded temporary media.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Media {
    pub media_id: String,
    /// The account that uploaded it.
    pub appid: String,
    #[serde(skip)]
    pub account: u16,
    pub created_at: i64,
    pub expires_at: i64,
    pub size: usize,
    /// FNV-1a 64 of the bytes received, in hex: tests compare it with what they sent to show
    /// the file arrived unchanged (through the relay too).
    pub fnv64: String,
    pub filename: String,
    pub content_type: String,
}

/// FNV-1a, 64 bits.
pub fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The route: like [`super::route`] (caller IP, whitelist), plus the Content-Type header the
/// multipart body needs, and a body limit above the sim's default.
pub fn upload_route() -> MethodRouter<Arc<Sim>> {
    any(
        |State(sim): State<Arc<Sim>>,
         uri: Uri,
         peer: Option<Extension<PeerIp>>,
         headers: HeaderMap,
         RawQuery(raw): RawQuery,
         body: Bytes| async move {
            let peer = peer.map(|Extension(p)| p.0);
            super::note_caller(&sim, peer);
            if let Some(e) = super::whitelist(&sim, uri.path(), peer) {
                return json_response(&e.to_json());
            }
            let q = parse_query(raw.as_deref());
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let v: Response = match upload(&sim, &q, ct, &body) {
                Ok(v) => json_response(&v),
                Err(e) => json_response(&e.to_json()),
            };
            v
        },
    )
    .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

fn missing_media() -> ApiErr {
    ApiErr::new(41005, "media data missing")
}

pub fn upload(sim: &Sim, q: &Query, content_type: &str, body: &[u8]) -> ApiResult<Value> {
    let a = account_caller(sim, q, "/cgi-bin/media/upload")?;
    if q.get("type").map(String::as_str) != Some("image") {
        return Err(ApiErr::new(40004, "invalid media type"));
    }
    let part = boundary(content_type)
        .and_then(|b| media_part(body, b))
        .ok_or_else(missing_media)?;
    if part.data.is_empty() || part.data.len() > IMAGE_MAX_BYTES {
        return Err(ApiErr::new(40006, "invalid file size"));
    }
    if !is_image(part.data) {
        return Err(ApiErr::new(40005, "invalid file type"));
    }
    let now = sim.now();
    let media_id = crate::ids::random_token("", 64);
    let m = Media {
        media_id: media_id.clone(),
        appid: a.appid.clone(),
        account: a.index,
        created_at: now,
        expires_at: now + MEDIA_TTL_SECS,
        size: part.data.len(),
        fnv64: format!("{:016x}", fnv64(part.data)),
        filename: part.filename.chars().take(128).collect(),
        content_type: part.content_type.chars().take(64).collect(),
    };
    let mut s = sim.lock();
    if s.media.len() >= MAX_MEDIA {
        s.media.pop_front();
    }
    s.media.push_back(m);
    Ok(json!({"type": "image", "media_id": media_id, "created_at": now}))
}

/// A customer-service card's `thumb_media_id`: a live temporary media of this account, or 40007.
pub fn check_thumb(sim: &Sim, a: &Account, media_id: &str) -> ApiResult<()> {
    let now = sim.now();
    let s = sim.lock();
    let live = s
        .media
        .iter()
        .any(|m| m.media_id == media_id && m.account == a.index && now < m.expires_at);
    if live {
        Ok(())
    } else {
        Err(ApiErr::new(40007, "invalid media_id"))
    }
}

fn is_image(b: &[u8]) -> bool {
    b.starts_with(&[0xFF, 0xD8, 0xFF])
        || b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(b"GIF87a")
        || b.starts_with(b"GIF89a")
}

/// `boundary=` of a `multipart/form-data` content type (quoted or not).
fn boundary(content_type: &str) -> Option<&str> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        // RFC 2046: 1 to 70 characters.
        (!v.is_empty() && v.len() <= 70).then_some(v)
    })
}

struct Part<'a> {
    filename: String,
    content_type: String,
    data: &'a [u8],
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The first part named `media` that has a filename (a file field, as `curl -F media=@x`).
fn media_part<'a>(body: &'a [u8], boundary: &str) -> Option<Part<'a>> {
    let delim = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let mut at = find(body, delim.as_bytes(), 0)? + delim.len();
    loop {
        // After a delimiter: `--` ends the body, CRLF starts a part.
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return None;
        }
        let head_start = at + 2;
        let head_end = find(body, b"\r\n\r\n", head_start)?;
        let head = std::str::from_utf8(body.get(head_start..head_end)?).ok()?;
        let data_start = head_end + 4;
        let data_end = find(body, next.as_bytes(), data_start)?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = String::new();
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = v.trim().to_string();
            }
        }
        if name.as_deref() == Some("media")
            && let Some(filename) = filename
        {
            return Some(Part {
                filename,
                content_type,
                data: body.get(data_start..data_end)?,
            });
        }
        at = data_end + next.len();
    }
}

/// `key="value"` (or unquoted) in a Content-Disposition value.
fn param(v: &str, key: &str) -> Option<String> {
    v.split(';').skip(1).find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| val.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(b: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file, data) in parts {
            out.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
            );
            if let Some(f) = file {
                out.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
            }
            out.extend_from_slice(b"\r\nContent-Type: image/png\r\n\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        out
    }

    #[test]
    fn the_media_file_part_is_found_among_others_with_its_bytes_intact() {
        let data: &[u8] = b"\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n\0";
        let b = body(
            "XyZ",
            &[("filelength", None, b"24"), ("media", Some("a.png"), data)],
        );
        let p = media_part(&b, "XyZ").expect("the media part");
        assert_eq!(p.data, data);
        assert_eq!(p.filename, "a.png");
        assert_eq!(p.content_type, "image/png");
        // A `media` field without a filename is a text field, not a file.
        let b = body("XyZ", &[("media", None, data)]);
        assert!(media_part(&b, "XyZ").is_none());
    }

    #[test]
    fn malformed_bodies_and_content_types_find_nothing_and_never_panic() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
        for b in [
            &b""[..],
            b"--abc",
            b"--abc\r\n",
            b"--abc\r\nContent-Disposition: form-data; name=\"media\"; filename=\"x\"\r\n\r\nunterminated",
            b"--abc--\r\n",
            b"\xFF\xFE--abc\r\n\xFF\r\n\r\n",
        ] {
            assert!(media_part(b, "abc").is_none(), "{b:?}");
        }
    }

    #[test]
    fn fnv64_is_the_reference_function() {
        assert_eq!(fnv64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
