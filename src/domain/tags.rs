//! Contact tags value type.

use super::error::DomainError;
use std::fmt;

const CODE: &str = "invalid_tags";
/// Maximum number of distinct tags.
pub const MAX_TAGS: usize = 50;
/// Maximum length of one tag, in characters.
pub const MAX_TAG_LEN: usize = 64;

/// A list of tags: each trimmed and lowercased, 1–64 characters without control
/// characters; duplicates are removed keeping the first occurrence; at most 50 tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    pub fn parse(input: Vec<String>) -> Result<Tags, DomainError> {
        let mut out: Vec<String> = Vec::with_capacity(input.len().min(MAX_TAGS));
        for (i, raw) in input.into_iter().enumerate() {
            let tag = raw.trim().to_lowercase();
            let len = tag.chars().count();
            if len == 0 {
                return Err(DomainError::new(CODE, format!("tag {i} is empty")));
            }
            if len > MAX_TAG_LEN {
                return Err(DomainError::new(
                    CODE,
                    format!("tag {i} is longer than {MAX_TAG_LEN} characters"),
                ));
            }
            if tag.chars().any(char::is_control) {
                return Err(DomainError::new(
                    CODE,
                    format!("tag {i} contains a control character"),
                ));
            }
            if !out.contains(&tag) {
                if out.len() == MAX_TAGS {
                    return Err(DomainError::new(
                        CODE,
                        format!("at most {MAX_TAGS} tags are allowed"),
                    ));
                }
                out.push(tag);
            }
        }
        Ok(Tags(out))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, tag: &str) -> bool {
        self.0.iter().any(|t| t == tag)
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// Tags joined with `", "`.
impl fmt::Display for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn normalises_and_dedupes_in_order() {
        let t = Tags::parse(v(&[" VIP ", "Lead", "vip", "lead ", "Großkunde", "客户"])).unwrap();
        assert_eq!(t.as_slice(), &v(&["vip", "lead", "großkunde", "客户"])[..]);
        assert_eq!(t.len(), 4);
        assert!(t.contains("lead") && !t.contains("Lead"));
        assert_eq!(t.to_string(), "vip, lead, großkunde, 客户");
        assert_eq!((&t).into_iter().count(), t.iter().count());
        assert_eq!(t.into_vec().len(), 4);
        let empty = Tags::parse(vec![]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty, Tags::default());
    }

    #[test]
    fn limits() {
        assert!(Tags::parse(vec!["é".repeat(64)]).is_ok());
        assert!(Tags::parse(vec!["a".repeat(65)]).is_err());
        let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(fifty.clone()).unwrap().len(), 50);
        let mut with_dupes = fifty.clone();
        with_dupes.extend(fifty.iter().map(|t| t.to_uppercase()));
        assert_eq!(Tags::parse(with_dupes).unwrap().len(), 50);
        let mut too_many = fifty;
        too_many.push("t50".into());
        let e = Tags::parse(too_many).unwrap_err();
        assert_eq!(e.code, "invalid_tags");
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            vec![""],
            vec!["ok", "   "],
            vec!["a\u{7}b"],
            vec!["line\nbreak"],
            vec!["tab\there"],
        ] {
            let e = Tags::parse(v(&bad)).expect_err(&format!("{bad:?}"));
            assert_eq!(e.code, "invalid_tags");
        }
    }
}
