//! Email address value type.

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

const CODE: &str = "invalid_email";
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// A syntactically valid email address, trimmed and lowercased.
///
/// Rules: exactly one `@`; a non-empty local part of at most 64 characters in
/// RFC 5322 "dot-atom" form (ASCII letters, digits, ``!#$%&'*+/=?^_`{|}~-`` and
/// single, non-leading, non-trailing dots); a domain with at least one dot whose
/// labels are 1–63 characters of `[a-z0-9-]` not starting or ending with `-`,
/// and whose last label is not all digits; at most 254 characters in total.
/// Internationalised domains must be given in their ASCII (punycode) form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

fn err(message: impl Into<String>) -> DomainError {
    DomainError::new(CODE, message)
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, DomainError> {
        let s = input.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(err("email address is empty"));
        }
        if s.len() > 254 {
            return Err(err("email address is longer than 254 characters"));
        }
        let (local, domain) = match s.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            Some(_) => return Err(err("email address must contain exactly one '@'")),
            None => return Err(err("email address must contain an '@'")),
        };
        if local.is_empty() {
            return Err(err("local part is empty"));
        }
        if local.len() > 64 {
            return Err(err("local part is longer than 64 characters"));
        }
        if let Some(c) = local
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || c == '.' || LOCAL_SPECIALS.contains(c)))
        {
            return Err(err(format!("local part contains invalid character {c:?}")));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(err("local part has a misplaced dot"));
        }
        if !domain.contains('.') {
            return Err(err("domain must contain a dot"));
        }
        for label in domain.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(err("domain labels must be 1-63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(err(format!(
                    "domain label {label:?} contains invalid characters"
                )));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(err(format!(
                    "domain label {label:?} starts or ends with '-'"
                )));
            }
        }
        if domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(err("top-level domain must not be numeric"));
        }
        Ok(EmailAddress(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(l, _)| l)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        EmailAddress::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .to_string()
    }

    fn bad(s: &str) {
        let e = EmailAddress::parse(s).expect_err(s);
        assert_eq!(e.code, "invalid_email", "{s:?}");
    }

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(ok("  Pat@Acme.Example "), "pat@acme.example");
        assert_eq!(
            ok("first.last+tag@mail.sub-domain.co.uk"),
            "first.last+tag@mail.sub-domain.co.uk"
        );
        assert_eq!(ok("o'brien_x{1}@x1.io"), "o'brien_x{1}@x1.io");
        assert_eq!(ok("a@b.c"), "a@b.c");
        assert_eq!(ok("x@xn--bcher-kva.example"), "x@xn--bcher-kva.example");
    }

    #[test]
    fn equality_is_case_insensitive_and_accessors() {
        let a = EmailAddress::parse("PAT@ACME.EXAMPLE").unwrap();
        let b: EmailAddress = "pat@acme.example".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "pat@acme.example");
        assert_eq!(a.local_part(), "pat");
        assert_eq!(a.domain(), "acme.example");
        assert_eq!(a.into_string(), "pat@acme.example");
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local64}@x.io")).is_ok());
        bad(&format!("{}@x.io", "a".repeat(65)));
        let label63 = "b".repeat(63);
        bad(&format!("a@{}.io", "b".repeat(64)));
        let long = format!("{local64}@{label63}.{label63}.{label63}.com");
        assert!(long.len() > 254);
        bad(&long);
        let fits = format!("{local64}@{label63}.{label63}.{}.com", "c".repeat(57));
        assert_eq!(fits.len(), 254);
        assert!(EmailAddress::parse(&fits).is_ok());
    }

    #[test]
    fn rejects_invalid() {
        for s in [
            "",
            "   ",
            "plainaddress",
            "@acme.example",
            "pat@",
            "pat@@acme.example",
            "a@b@acme.example",
            "pat@localhost",
            "pat@acme..example",
            "pat@.acme.example",
            "pat@acme.example.",
            "pat@-acme.example",
            "pat@acme-.example",
            "pat@acme_corp.example",
            "pat@acme.ex ample",
            "pa t@acme.example",
            ".pat@acme.example",
            "pat.@acme.example",
            "p..at@acme.example",
            "pat(x)@acme.example",
            "pät@acme.example",
            "pat@bücher.example",
            "pat@1.2.3.4",
            "pat@[1.2.3.4]",
            "\"pat\"@acme.example",
        ] {
            bad(s);
        }
    }
}
