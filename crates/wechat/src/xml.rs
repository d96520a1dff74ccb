//! The one place that reads untrusted XML. WeChat bodies are flat: `<xml>` with one level of
//! child elements whose text (often CDATA) is the value. We read exactly that, refuse any DTD and
//! any entity reference other than the five predefined ones and character references (so neither
//! "billion laughs" nor external entities can do anything), bound the input size and nesting
//! depth, and never panic.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{Error, Result};

/// Largest XML body we parse. Real pushes are a few KiB.
pub const MAX_XML_BYTES: usize = 1024 * 1024;
/// Deepest element nesting we accept (some events nest one or two levels, e.g. ScanCodeInfo).
const MAX_DEPTH: usize = 16;

/// The direct children of `<xml>`, in document order, with their text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flat {
    fields: Vec<(String, String)>,
}

impl Flat {
    /// First child with this exact element name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// First child with this element name, as a non-empty string.
    pub fn require(&self, name: &'static str) -> Result<String> {
        self.get(name)
            .map(str::to_owned)
            .ok_or(Error::MissingField(name))
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

/// Parse `<xml>…</xml>` into its direct children.
pub fn parse_flat(xml: &str) -> Result<Flat> {
    if xml.len() > MAX_XML_BYTES {
        return Err(Error::XmlTooLarge {
            len: xml.len(),
            limit: MAX_XML_BYTES,
        });
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;

    let mut flat = Flat::default();
    let mut depth = 0usize;
    let mut root_done = false;
    let mut root_seen = false;
    // The direct child being read: its name and accumulated text.
    let mut current: Option<(String, String)> = None;

    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::Xml(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::DocType(_) => return Err(Error::XmlForbidden),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Start(e) => {
                if root_done {
                    return Err(Error::Xml("more than one root element".into()));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::Xml("elements nested too deeply".into()));
                }
                let name = e.name();
                let name = name.into_inner();
                if depth == 1 {
                    check_root(name)?;
                    root_seen = true;
                } else if depth == 2 {
                    current = Some((name.to_owned(), String::new()));
                }
            }
            Event::Empty(e) => {
                if root_done {
                    return Err(Error::Xml("more than one root element".into()));
                }
                let name = e.name();
                let name = name.into_inner();
                match depth {
                    0 => {
                        check_root(name)?;
                        root_seen = true;
                        root_done = true;
                    }
                    1 => flat.fields.push((name.to_owned(), String::new())),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if depth == 0 {
                    if !t.xml10_content().trim().is_empty() {
                        return Err(Error::Xml("text outside the root element".into()));
                    }
                } else if let (2, Some((_, text))) = (depth, current.as_mut()) {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if depth == 0 {
                    return Err(Error::Xml("CDATA outside the root element".into()));
                }
                if let (2, Some((_, text))) = (depth, current.as_mut()) {
                    text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| Error::Xml(e.to_string()))?
                        .ok_or(Error::XmlForbidden)?
                } else {
                    predefined_entity(&r.into_inner()).ok_or(Error::XmlForbidden)?
                };
                if depth == 0 {
                    return Err(Error::Xml("reference outside the root element".into()));
                }
                if let (2, Some((_, text))) = (depth, current.as_mut()) {
                    text.push(ch);
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(field) = current.take()
                {
                    flat.fields.push(field);
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_done = true;
                }
            }
            Event::Eof => break,
        }
    }
    if !root_seen || !root_done {
        return Err(Error::Xml("missing or unclosed <xml> root".into()));
    }
    Ok(flat)
}

/// The `<List>` items under a direct child of `<xml>` named one of `wrappers` (the 订阅通知 events
/// of protocol G.6: `<xml><SubscribeMsgPopupEvent><List>…</List><List>…</List></…></xml>`). Each
/// item is read like a flat body: its direct children and their text. The same safety rules as
/// [`parse_flat`] apply (no DTD or custom entities, bounded size and depth).
pub fn parse_lists(xml: &str, wrappers: &[&str]) -> Result<Vec<Flat>> {
    if xml.len() > MAX_XML_BYTES {
        return Err(Error::XmlTooLarge {
            len: xml.len(),
            limit: MAX_XML_BYTES,
        });
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut items = Vec::new();
    let mut depth = 0usize;
    // Inside a wanted wrapper (depth 2), an item (depth 3) and one of its fields (depth 4).
    let mut in_wrapper = false;
    let mut item: Option<Flat> = None;
    let mut field: Option<(String, String)> = None;
    let mut root_seen = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::Xml(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::DocType(_) => return Err(Error::XmlForbidden),
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::Xml("elements nested too deeply".into()));
                }
                let name = e.name();
                let name = name.into_inner();
                match depth {
                    1 => {
                        check_root(name)?;
                        root_seen = true;
                    }
                    2 => in_wrapper = wrappers.contains(&name),
                    3 if in_wrapper && name == "List" => item = Some(Flat::default()),
                    4 if item.is_some() => field = Some((name.to_owned(), String::new())),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                let name = e.name();
                let name = name.into_inner();
                match depth {
                    0 => {
                        check_root(name)?;
                        root_seen = true;
                    }
                    2 if in_wrapper && name == "List" => items.push(Flat::default()),
                    3 => {
                        if let Some(it) = item.as_mut() {
                            it.fields.push((name.to_owned(), String::new()));
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (4, Some((_, text))) = (depth, field.as_mut()) {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let (4, Some((_, text))) = (depth, field.as_mut()) {
                    text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| Error::Xml(e.to_string()))?
                        .ok_or(Error::XmlForbidden)?
                } else {
                    predefined_entity(&r.into_inner()).ok_or(Error::XmlForbidden)?
                };
                if let (4, Some((_, text))) = (depth, field.as_mut()) {
                    text.push(ch);
                }
            }
            Event::End(_) => {
                match depth {
                    4 => {
                        if let (Some(f), Some(it)) = (field.take(), item.as_mut()) {
                            it.fields.push(f);
                        }
                    }
                    3 => items.extend(item.take()),
                    2 => in_wrapper = false,
                    _ => {}
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    if !root_seen || depth != 0 {
        return Err(Error::Xml("missing or unclosed <xml> root".into()));
    }
    Ok(items)
}

fn check_root(name: &str) -> Result<()> {
    if name == "xml" {
        Ok(())
    } else {
        Err(Error::Xml("the root element must be <xml>".into()))
    }
}

/// `<![CDATA[…]]>` around any text, splitting a literal `]]>` so the section cannot be closed
/// early by the content.
pub fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_text_and_predefined_entities_of_direct_children() {
        let f = parse_flat(
            "<?xml version=\"1.0\"?><xml><A><![CDATA[x<y]]></A><B>1 &amp; &#x32;</B><C/>\n<D><E>n</E></D></xml>",
        )
        .unwrap();
        assert_eq!(f.get("A"), Some("x<y"));
        assert_eq!(f.get("B"), Some("1 & 2"));
        assert_eq!(f.get("C"), Some(""));
        // Nested text is not a value of D.
        assert_eq!(f.get("D"), Some(""));
        assert_eq!(f.get("E"), None);
    }

    #[test]
    fn doctype_and_custom_entities_are_refused() {
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml><A>&lol2;</A></xml>";
        assert!(matches!(parse_flat(laughs), Err(Error::XmlForbidden)));
        let xxe =
            "<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><A>&xxe;</A></xml>";
        assert!(matches!(parse_flat(xxe), Err(Error::XmlForbidden)));
        // An undeclared entity without a DOCTYPE is refused too, not silently dropped.
        assert!(matches!(
            parse_flat("<xml><A>&xxe;</A></xml>"),
            Err(Error::XmlForbidden)
        ));
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = format!("<xml><A>{}</A></xml>", "a".repeat(MAX_XML_BYTES));
        assert!(matches!(parse_flat(&big), Err(Error::XmlTooLarge { .. })));
    }

    #[test]
    fn malformed_shapes_are_errors() {
        for bad in [
            "",
            "<xml>",
            "<xml><A></B></xml>",
            "<root><A>1</A></root>",
            "<xml></xml><xml></xml>",
            "junk<xml></xml>",
            "<xml><A>&#0;</A></xml>",
        ] {
            assert!(parse_flat(bad).is_err(), "accepted {bad:?}");
        }
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse_flat(&deep).is_err());
    }

    #[test]
    fn list_items_of_the_named_wrapper_are_read_one_by_one() {
        let x = "<xml><ToUserName>gh</ToUserName><Other><List><A>no</A></List></Other>\
            <Wrap><List><A><![CDATA[1]]></A><B>x &amp; y</B></List><List><A>2</A><C/></List></Wrap></xml>";
        let items = parse_lists(x, &["Wrap"]).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].get("A"), Some("1"));
        assert_eq!(items[0].get("B"), Some("x & y"));
        assert_eq!(items[1].get("A"), Some("2"));
        assert_eq!(items[1].get("C"), Some(""));
        assert!(parse_lists(x, &["Nope"]).unwrap().is_empty());
        let laughs =
            "<!DOCTYPE x [<!ENTITY a \"b\">]><xml><Wrap><List><A>&a;</A></List></Wrap></xml>";
        assert!(matches!(
            parse_lists(laughs, &["Wrap"]),
            Err(Error::XmlForbidden)
        ));
        assert!(parse_lists("<xml><Wrap><List>", &["Wrap"]).is_err());
    }

    #[test]
    fn cdata_helper_cannot_be_broken_out_of() {
        let s = cdata("a]]><b>");
        let f = parse_flat(&format!("<xml><A>{s}</A></xml>")).unwrap();
        assert_eq!(f.get("A"), Some("a]]><b>"));
    }
}
