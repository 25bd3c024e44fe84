//! BCP 47 language tag value type.

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

const CODE: &str = "invalid_language";
const MAX_LEN: usize = 64;

/// A BCP 47 (RFC 5646) language tag with normalised casing, e.g. `"zh-Hans-CN"`.
///
/// Syntax checked: a primary language subtag of 2–3 letters (lowercased), up to
/// three 3-letter extlang subtags, an optional script (4 letters, Titlecase), an
/// optional region (2 letters uppercased, or 3 digits), distinct variants (5–8
/// alphanumerics, or 4 starting with a digit), extensions (`u-ca-gregory`) and a
/// final private-use part (`x-…`), all lowercased. `_` is accepted as a separator
/// and converted to `-`. Subtags are not checked against the IANA registry.
/// Irregular/grandfathered tags (`i-klingon`) and tags longer than 64 characters
/// are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LanguageTag(String);

fn err(message: impl Into<String>) -> DomainError {
    DomainError::new(CODE, message)
}

fn is_alpha(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_alnum(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn titlecase(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    lower[..1].to_ascii_uppercase() + &lower[1..]
}

impl LanguageTag {
    pub fn parse(input: &str) -> Result<LanguageTag, DomainError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(err("language tag is empty"));
        }
        if s.len() > MAX_LEN {
            return Err(err(format!(
                "language tag is longer than {MAX_LEN} characters"
            )));
        }
        let subtags: Vec<&str> = s.split(['-', '_']).collect();
        if let Some(bad) = subtags.iter().find(|t| !is_alnum(t, 1, 8)) {
            return Err(err(format!(
                "invalid subtag {bad:?}: subtags are 1-8 letters or digits"
            )));
        }
        let mut out: Vec<String> = Vec::with_capacity(subtags.len());
        let mut it = subtags.into_iter().peekable();

        let lang = it.next().unwrap_or_default();
        if !is_alpha(lang, 2, 3) {
            return Err(err(format!(
                "primary language subtag {lang:?} must be 2-3 letters"
            )));
        }
        out.push(lang.to_ascii_lowercase());
        for _ in 0..3 {
            match it.next_if(|t| is_alpha(t, 3, 3)) {
                Some(ext) => out.push(ext.to_ascii_lowercase()),
                None => break,
            }
        }
        if let Some(script) = it.next_if(|t| is_alpha(t, 4, 4)) {
            out.push(titlecase(script));
        }
        if let Some(region) = it.next_if(|t| {
            is_alpha(t, 2, 2) || (t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit()))
        }) {
            out.push(region.to_ascii_uppercase());
        }
        let mut variants: Vec<String> = Vec::new();
        while let Some(v) =
            it.next_if(|t| is_alnum(t, 5, 8) || (t.len() == 4 && t.as_bytes()[0].is_ascii_digit()))
        {
            let v = v.to_ascii_lowercase();
            if variants.contains(&v) {
                return Err(err(format!("duplicate variant {v:?}")));
            }
            variants.push(v.clone());
            out.push(v);
        }
        let mut singletons: Vec<String> = Vec::new();
        while let Some(single) = it.next() {
            let single = single.to_ascii_lowercase();
            if single.len() != 1 {
                return Err(err(format!("unexpected subtag {single:?}")));
            }
            let private = single == "x";
            if singletons.contains(&single) {
                return Err(err(format!("duplicate extension {single:?}")));
            }
            singletons.push(single.clone());
            out.push(single.clone());
            let min = if private { 1 } else { 2 };
            let mut count = 0;
            while let Some(t) = it.next_if(|t| private || t.len() >= min) {
                out.push(t.to_ascii_lowercase());
                count += 1;
            }
            if count == 0 {
                return Err(err(format!("extension {single:?} has no subtags")));
            }
        }
        Ok(LanguageTag(out.join("-")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag, e.g. `"zh"`.
    pub fn primary_language(&self) -> &str {
        self.0.split('-').next().unwrap_or_default()
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LanguageTag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for LanguageTag {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LanguageTag::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_casing() {
        let cases = [
            ("zh-hans-cn", "zh-Hans-CN"),
            ("EN_us", "en-US"),
            (" fr ", "fr"),
            ("haw", "haw"),
            ("es-419", "es-419"),
            ("SR-LATN-rs", "sr-Latn-RS"),
            ("de-ch-1901", "de-CH-1901"),
            ("sl-Rozaj-BISKE", "sl-rozaj-biske"),
            ("zh-YUE-hk", "zh-yue-HK"),
            ("zh-Hant", "zh-Hant"),
            ("en-US-u-CA-gregory-NU-latn", "en-US-u-ca-gregory-nu-latn"),
            ("en-x-Private-1", "en-x-private-1"),
            ("de-DE-1996-a-bb-x-a-b", "de-DE-1996-a-bb-x-a-b"),
        ];
        for (input, want) in cases {
            let t = LanguageTag::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(t.as_str(), want);
            assert_eq!(t.to_string(), want);
        }
        let t: LanguageTag = "zh-hans-cn".parse().unwrap();
        assert_eq!(t.primary_language(), "zh");
    }

    #[test]
    fn rejects_invalid() {
        let long = format!("en-{}", ["abcdefgh"; 8].join("-"));
        for s in [
            "",
            "e",
            "english",
            "en-",
            "-en",
            "en--us",
            "en-US-US",
            "zh-Hans-Hant",
            "de-1901-1901",
            "en-a",
            "en-a-bb-a-cc",
            "en-x",
            "en-u-x",
            "en-u-a",
            "i-klingon",
            "x-private",
            "123",
            "en US",
            "ен",
            "en-abcdefghi",
            "en-US-ab",
            long.as_str(),
        ] {
            let e = LanguageTag::parse(s).expect_err(s);
            assert_eq!(e.code, "invalid_language", "{s}");
        }
    }
}
