//! Temporary media (新增临时素材, `POST /cgi-bin/media/upload?type=image`): the cover image of a
//! customer-service mini-program card (`miniprogrampage.thumb_media_id`). WeChat keeps a
//! temporary media id for 3 days, then answers 40007 to messages that use it.
//!
//! The image is checked before anything is sent (empty, larger than WeChat takes, not a JPEG or
//! PNG by its first bytes), so a wrong file costs no request and gets a clear reason.
//!
//! The multipart body is built here rather than with reqwest's `multipart` feature: one part of
//! known bytes needs no streaming, and it keeps the dependency tree as it is. The file name sent
//! is `cover.jpg`/`cover.png`, never the user's: WeChat only looks at the extension, and a name
//! from disk could carry quotes or line breaks into the part's headers.

use rand::Rng;
use serde::Deserialize;

use super::Client;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The largest image WeChat takes as temporary media (its 素材 page: "图片（image）: 10M").
pub const IMAGE_MAX_BYTES: usize = 10 * 1024 * 1024;

/// How long WeChat keeps a temporary media id.
pub const MEDIA_TTL_SECS: i64 = 3 * 24 * 3600;

/// An image format WeChat takes for a card cover, recognised by its signature bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

impl ImageFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }

    /// The file name sent in the multipart part.
    pub fn file_name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "cover.jpg",
            ImageFormat::Png => "cover.png",
        }
    }
}

/// Why an image was refused before uploading, in both languages with what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageRefusal {
    Empty,
    TooLarge { len: usize },
    NotJpegOrPng,
}

impl ImageRefusal {
    pub fn zh(self) -> String {
        match self {
            ImageRefusal::Empty => "图片文件是空的".into(),
            ImageRefusal::TooLarge { len } => {
                format!("图片过大：{:.1} MB，微信临时素材上限 10 MB", mb(len))
            }
            ImageRefusal::NotJpegOrPng => "文件不是 JPG 或 PNG 图片".into(),
        }
    }

    pub fn en(self) -> String {
        match self {
            ImageRefusal::Empty => "The image file is empty".into(),
            ImageRefusal::TooLarge { len } => format!(
                "The image is too large: {:.1} MB; WeChat takes temporary media up to 10 MB",
                mb(len)
            ),
            ImageRefusal::NotJpegOrPng => "The file is not a JPG or PNG image".into(),
        }
    }

    pub fn hint_zh(self) -> &'static str {
        match self {
            ImageRefusal::Empty | ImageRefusal::NotJpegOrPng => {
                "请选择 JPG 或 PNG 图片（小程序卡片封面建议 520×416）。"
            }
            ImageRefusal::TooLarge { .. } => {
                "请压缩或缩小图片后再上传（封面建议 520×416，几百 KB 即可）。"
            }
        }
    }

    pub fn hint_en(self) -> &'static str {
        match self {
            ImageRefusal::Empty | ImageRefusal::NotJpegOrPng => {
                "Choose a JPG or PNG image (a mini-program card cover is best at 520×416)."
            }
            ImageRefusal::TooLarge { .. } => {
                "Compress or shrink the image and upload it again (520×416 needs a few hundred KB at most)."
            }
        }
    }
}

#[allow(clippy::cast_precision_loss)] // a file size shown with one decimal
fn mb(len: usize) -> f64 {
    len as f64 / (1024.0 * 1024.0)
}

/// The format of an image WeChat would take as a cover, or why not.
pub fn check_image(bytes: &[u8]) -> std::result::Result<ImageFormat, ImageRefusal> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.is_empty() {
        return Err(ImageRefusal::Empty);
    }
    if bytes.len() > IMAGE_MAX_BYTES {
        return Err(ImageRefusal::TooLarge { len: bytes.len() });
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG) {
        Ok(ImageFormat::Png)
    } else {
        Err(ImageRefusal::NotJpegOrPng)
    }
}

/// What WeChat answers an upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadedMedia {
    #[serde(rename = "type", default)]
    pub media_type: String,
    pub media_id: String,
    /// Unix seconds; the id works until `created_at + MEDIA_TTL_SECS`.
    #[serde(default)]
    pub created_at: i64,
}

/// `multipart/form-data` with one file field `media`: (content type header value, body).
pub fn multipart_body(format: ImageFormat, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = loop {
        let mut rng = rand::rng();
        let tail: String = (0..32)
            .map(|_| char::from(rng.sample(rand::distr::Alphanumeric)))
            .collect();
        let b = format!("wxdesk-{tail}");
        // A boundary must not occur in the content; with 32 random characters it never will,
        // but checking is cheap next to the upload.
        if !bytes.windows(b.len()).any(|w| w == b.as_bytes()) {
            break b;
        }
    };
    let mut body = Vec::with_capacity(bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            format.file_name(),
            format.content_type()
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Client {
    /// Uploads a JPEG or PNG as temporary image media and returns its media id. Refused
    /// locally ([`Error::ImageRefused`]) when [`check_image`] says WeChat would refuse it.
    pub async fn upload_image(&self, at: &Secret, bytes: &[u8]) -> Result<UploadedMedia> {
        let format = check_image(bytes).map_err(Error::ImageRefused)?;
        let (content_type, body) = multipart_body(format, bytes);
        let path = "/cgi-bin/media/upload";
        let req = self
            .http
            .post(self.url(path, &[("access_token", at.expose()), ("type", "image")]))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        let m: UploadedMedia = self.send(req, path).await?;
        if m.media_id.is_empty() {
            return Err(Error::Json("missing field `media_id`".into()));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ClientConfig;
    use crate::errcode::ErrKind;
    use crate::test_server::{Reply, TestServer};

    pub(crate) fn png() -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        v.extend_from_slice(b"\0\0\0\rIHDR rest of a tiny png");
        v
    }

    #[test]
    fn jpeg_and_png_pass_by_their_signature_and_anything_else_is_refused() {
        assert_eq!(
            check_image(&[0xFF, 0xD8, 0xFF, 0xE0, 1]),
            Ok(ImageFormat::Jpeg)
        );
        assert_eq!(check_image(&png()), Ok(ImageFormat::Png));
        assert_eq!(check_image(b""), Err(ImageRefusal::Empty));
        assert_eq!(check_image(b"GIF89a...."), Err(ImageRefusal::NotJpegOrPng));
        assert_eq!(check_image(b"<svg></svg>"), Err(ImageRefusal::NotJpegOrPng));
        // A text file named cover.png is still text.
        assert_eq!(check_image(b"\x89PN"), Err(ImageRefusal::NotJpegOrPng));
        let mut big = vec![0xFF, 0xD8, 0xFF];
        big.resize(IMAGE_MAX_BYTES, 0);
        assert_eq!(check_image(&big), Ok(ImageFormat::Jpeg));
        big.push(0);
        assert_eq!(
            check_image(&big),
            Err(ImageRefusal::TooLarge {
                len: IMAGE_MAX_BYTES + 1
            })
        );
        let r = ImageRefusal::TooLarge {
            len: IMAGE_MAX_BYTES + 1,
        };
        assert!(r.zh().contains("10.0 MB") && r.en().contains("10 MB"));
        assert!(r.hint_zh().contains("520×416") && r.hint_en().contains("520×416"));
    }

    #[tokio::test]
    async fn upload_posts_one_media_part_with_the_bytes_unchanged_and_returns_the_id() {
        let srv = TestServer::start().await;
        srv.route(
            "/cgi-bin/media/upload",
            Reply::json(json!({"type": "image", "media_id": "MID_1", "created_at": 1_700_000_000})),
        );
        let c = Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap();
        // Bytes a text-mode or UTF-8 round trip would damage: CR LF, NUL, invalid UTF-8.
        let mut img = png();
        img.extend_from_slice(b"\r\n\0\xFF\xFE--x\r\n");
        let m = c.upload_image(&Secret::new("AT"), &img).await.unwrap();
        assert_eq!(m.media_id, "MID_1");
        assert_eq!(m.created_at, 1_700_000_000);
        let r = srv.single();
        assert_eq!(r.method, "POST");
        assert_eq!(r.query["access_token"], "AT");
        assert_eq!(r.query["type"], "image");
        let ct = &r.headers["content-type"];
        let boundary = ct
            .strip_prefix("multipart/form-data; boundary=")
            .expect("a multipart content type");
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"cover.png\"\r\nContent-Type: image/png\r\n\r\n"
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let raw = &r.raw_body;
        assert!(raw.starts_with(head.as_bytes()), "{raw:?}");
        assert!(raw.ends_with(tail.as_bytes()));
        assert_eq!(&raw[head.len()..raw.len() - tail.len()], img.as_slice());
    }

    #[tokio::test]
    async fn a_refused_file_costs_no_request_and_wechat_codes_come_back_explained() {
        let srv = TestServer::start().await;
        srv.route(
            "/cgi-bin/media/upload",
            Reply::json(json!({"errcode": 40005, "errmsg": "invalid file type rid: x"})),
        );
        let c = Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap();
        let e = c
            .upload_image(&Secret::new("AT"), b"plain text")
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ImageRefused(ImageRefusal::NotJpegOrPng)));
        assert!(e.to_string().contains("JPG") && e.message_en().contains("JPG"));
        assert!(srv.requests().is_empty());
        let e = c
            .upload_image(&Secret::new("AT"), &png())
            .await
            .unwrap_err();
        let w = e.wechat().expect("a WeChat error");
        assert_eq!(w.errcode, 40005);
        assert_eq!(w.kind, ErrKind::Permanent);
        assert!(w.info().is_some());
    }

    #[tokio::test]
    async fn an_answer_without_media_id_is_an_error() {
        let srv = TestServer::start().await;
        srv.route(
            "/cgi-bin/media/upload",
            Reply::json(json!({"type": "image", "media_id": ""})),
        );
        let c = Client::new(ClientConfig::with_base_url(&srv.base_url)).unwrap();
        let e = c
            .upload_image(&Secret::new("AT"), &png())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Json(_)));
    }
}
