//! The composer's live check of a template draft: every value against its keyword rule (core's
//! rules, the same the engine applies), the placeholders no recipient column provides, and the
//! card of the first recipients as WeChat will show it (20-character cut, emoji removed).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Resolved, TemplateDraft, missing_variables};
use crate::send::render::{self, RenderProblem};
use crate::send::{JobSpec, Payload, Recipient};
use crate::templates::Template;
use crate::templates::keywords;

/// Rows the preview renders.
pub(crate) const PREVIEW_ROWS: usize = 3;

/// A text in both languages (a keyword rule's words come from the rules table that way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Words {
    pub zh: String,
    pub en: String,
}

/// One keyword value as checked against its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldCheck {
    pub key: String,
    pub label: String,
    /// Characters as WeChat counts them (Unicode scalar values).
    pub chars: u32,
    /// The rule broken (`None`: fine, or it uses `{{变量}}` and is checked per row).
    pub problem: Option<Words>,
    /// Whether the value uses `{{变量}}` (then each previewed row is checked instead).
    pub templated: bool,
}

/// One keyword line of the card, as the recipient will see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardLine {
    pub label: String,
    pub text: String,
    /// WeChat cuts the value to 20 characters and adds `…`.
    pub cut: bool,
    pub emoji_removed: bool,
}

/// The card of one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardPreview {
    pub openid: String,
    pub lines: Vec<CardLine>,
    /// Why this recipient would be skipped (missing variable, 47003 rule), if so.
    pub problem: Option<RenderProblem>,
}

/// The composer's check of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ComposeCheck {
    pub template_title: String,
    pub fields: Vec<FieldCheck>,
    /// The variable names the recipients carry (list/file columns).
    pub variables: Vec<String>,
    /// `{{变量}}` used in the draft that no column provides.
    pub missing_variables: Vec<String>,
    pub cards: Vec<CardPreview>,
    /// A recipient source was chosen and has no one to send to (an empty list or file, or one
    /// that cannot be read now): no card is drawn for a recipient who does not exist.
    pub empty_source: bool,
    /// Whether the draft can be sent (every field fine, no missing variable, someone to send
    /// to when a source is chosen).
    pub ok: bool,
}

fn card(
    fields: &[keywords::Field],
    rendered: &BTreeMap<String, String>,
    openid: &str,
) -> CardPreview {
    let lines = fields
        .iter()
        .filter_map(|f| {
            let v = rendered.get(&f.key).map(String::as_str).unwrap_or("");
            keywords::display_field(f.kind, v).map(|d| CardLine {
                label: f.label.clone(),
                text: d.text,
                cut: d.cut,
                emoji_removed: d.emoji_removed,
            })
        })
        .collect();
    CardPreview {
        openid: openid.to_string(),
        lines,
        problem: None,
    }
}

pub(crate) fn check(
    t: &Template,
    draft: &TemplateDraft,
    spec: &JobSpec,
    sample: Resolved,
    source_given: bool,
) -> ComposeCheck {
    let shown: Vec<keywords::Field> = t
        .fields
        .iter()
        .filter(|f| f.kind.is_shown())
        .cloned()
        .collect();
    let mut ok = true;
    let fields: Vec<FieldCheck> = shown
        .iter()
        .map(|f| {
            let v = draft.data.get(&f.key).map(String::as_str).unwrap_or("");
            let templated = v.contains("{{");
            let allowed = t.const_values.get(&f.key).map(Vec::as_slice);
            let violation = if templated {
                None
            } else {
                keywords::validate_with_allowed(f.kind, v, allowed).err()
            };
            ok &= violation.is_none();
            FieldCheck {
                key: f.key.clone(),
                label: f.label.clone(),
                chars: u32::try_from(v.chars().count()).unwrap_or(u32::MAX),
                problem: violation.map(|x| Words { zh: x.zh, en: x.en }),
                templated,
            }
        })
        .collect();
    let missing = missing_variables(spec, &sample.variables);
    ok &= missing.is_empty();
    let data = match &spec.payload {
        Payload::Template { data, .. } => data.clone(),
        _ => BTreeMap::new(),
    };
    let empty_source = source_given && sample.recipients.is_empty();
    ok &= !empty_source;
    // Without a source the card shows the message with its raw values (示例); with an empty
    // source there is nobody to show it to.
    let rows = match (sample.recipients.is_empty(), empty_source) {
        (_, true) => Vec::new(),
        (true, false) => vec![Recipient::new("")],
        (false, false) => sample.recipients,
    };
    let cards = rows
        .iter()
        .map(
            |r| match render::render_data(&data, &r.vars, &spec.field_rules) {
                Ok(rendered) => card(&shown, &rendered, &r.openid),
                Err(p) => {
                    // Still draw the card with the raw values, and say why the row is skipped.
                    let mut c = card(&shown, &data, &r.openid);
                    c.problem = Some(p);
                    c
                }
            },
        )
        .collect();
    ComposeCheck {
        template_title: t.title.clone(),
        fields,
        variables: sample.variables,
        missing_variables: missing,
        cards,
        empty_source,
        ok,
    }
}
