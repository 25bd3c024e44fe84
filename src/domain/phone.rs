//! Phone number value type (E.164 normalisation).

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

const CODE: &str = "invalid_phone";

/// `(ISO 3166-1 alpha-2, country calling code, national trunk prefix(es), digit count)`.
///
/// The trunk prefix field lists alternatives separated by `|` (empty: the country
/// has none). A trunk prefix is dropped from a nationally written number when the
/// number starts with it and, if the last field is non-zero, has exactly that
/// many digits (NANP `1` + 10 digits, Russian `8` + 10 digits, ...).
/// Derived from libphonenumber metadata; sorted by ISO code.
#[rustfmt::skip]
const CALLING_CODES: &[(&str, u16, &str, u8)] = &[
    ("AD", 376, "", 0), ("AE", 971, "0", 0), ("AF", 93, "0", 0), ("AG", 1, "1", 11), ("AI", 1, "1", 11), ("AL", 355, "0", 0),
    ("AM", 374, "0", 0), ("AO", 244, "", 0), ("AR", 54, "0", 0), ("AS", 1, "1", 11), ("AT", 43, "0", 0), ("AU", 61, "0", 0),
    ("AW", 297, "", 0), ("AX", 358, "0", 0), ("AZ", 994, "0", 0), ("BA", 387, "0", 0), ("BB", 1, "1", 11), ("BD", 880, "0", 0),
    ("BE", 32, "0", 0), ("BF", 226, "", 0), ("BG", 359, "0", 0), ("BH", 973, "", 0), ("BI", 257, "", 0), ("BJ", 229, "", 0),
    ("BL", 590, "0", 0), ("BM", 1, "1", 11), ("BN", 673, "", 0), ("BO", 591, "0", 0), ("BQ", 599, "", 0), ("BR", 55, "0", 0),
    ("BS", 1, "1", 11), ("BT", 975, "", 0), ("BW", 267, "", 0), ("BY", 375, "80|0", 0), ("BZ", 501, "", 0), ("CA", 1, "1", 11),
    ("CC", 61, "0", 0), ("CD", 243, "0", 0), ("CF", 236, "", 0), ("CG", 242, "", 0), ("CH", 41, "0", 0), ("CI", 225, "", 0),
    ("CK", 682, "", 0), ("CL", 56, "", 0), ("CM", 237, "", 0), ("CN", 86, "0", 0), ("CO", 57, "0", 0), ("CR", 506, "", 0),
    ("CU", 53, "0", 0), ("CV", 238, "", 0), ("CW", 599, "", 0), ("CX", 61, "0", 0), ("CY", 357, "", 0), ("CZ", 420, "", 0),
    ("DE", 49, "0", 0), ("DJ", 253, "", 0), ("DK", 45, "", 0), ("DM", 1, "1", 11), ("DO", 1, "1", 11), ("DZ", 213, "0", 0),
    ("EC", 593, "0", 0), ("EE", 372, "", 0), ("EG", 20, "0", 0), ("EH", 212, "0", 0), ("ER", 291, "0", 0), ("ES", 34, "", 0),
    ("ET", 251, "0", 0), ("FI", 358, "0", 0), ("FJ", 679, "", 0), ("FK", 500, "", 0), ("FM", 691, "", 0), ("FO", 298, "", 0),
    ("FR", 33, "0", 0), ("GA", 241, "", 0), ("GB", 44, "0", 0), ("GD", 1, "1", 11), ("GE", 995, "0", 0), ("GF", 594, "0", 0),
    ("GG", 44, "0", 0), ("GH", 233, "0", 0), ("GI", 350, "", 0), ("GL", 299, "", 0), ("GM", 220, "", 0), ("GN", 224, "", 0),
    ("GP", 590, "0", 0), ("GQ", 240, "", 0), ("GR", 30, "", 0), ("GT", 502, "", 0), ("GU", 1, "1", 11), ("GW", 245, "", 0),
    ("GY", 592, "", 0), ("HK", 852, "", 0), ("HN", 504, "", 0), ("HR", 385, "0", 0), ("HT", 509, "", 0), ("HU", 36, "06", 0),
    ("ID", 62, "0", 0), ("IE", 353, "0", 0), ("IL", 972, "0", 0), ("IM", 44, "0", 0), ("IN", 91, "0", 0), ("IO", 246, "", 0),
    ("IQ", 964, "0", 0), ("IR", 98, "0", 0), ("IS", 354, "", 0), ("IT", 39, "", 0), ("JE", 44, "0", 0), ("JM", 1, "1", 11),
    ("JO", 962, "0", 0), ("JP", 81, "0", 0), ("KE", 254, "0", 0), ("KG", 996, "0", 0), ("KH", 855, "0", 0), ("KI", 686, "0", 0),
    ("KM", 269, "", 0), ("KN", 1, "1", 11), ("KP", 850, "0", 0), ("KR", 82, "0", 0), ("KW", 965, "", 0), ("KY", 1, "1", 11),
    ("KZ", 7, "8", 11), ("LA", 856, "0", 0), ("LB", 961, "0", 0), ("LC", 1, "1", 11), ("LI", 423, "0", 0), ("LK", 94, "0", 0),
    ("LR", 231, "0", 0), ("LS", 266, "", 0), ("LT", 370, "0", 0), ("LU", 352, "", 0), ("LV", 371, "", 0), ("LY", 218, "0", 0),
    ("MA", 212, "0", 0), ("MC", 377, "0", 0), ("MD", 373, "0", 0), ("ME", 382, "0", 0), ("MF", 590, "0", 0), ("MG", 261, "0", 0),
    ("MH", 692, "1", 8), ("MK", 389, "0", 0), ("ML", 223, "", 0), ("MM", 95, "0", 0), ("MN", 976, "0", 0), ("MO", 853, "", 0),
    ("MP", 1, "1", 11), ("MQ", 596, "0", 0), ("MR", 222, "", 0), ("MS", 1, "1", 11), ("MT", 356, "", 0), ("MU", 230, "", 0),
    ("MV", 960, "", 0), ("MW", 265, "0", 0), ("MX", 52, "", 0), ("MY", 60, "0", 0), ("MZ", 258, "", 0), ("NA", 264, "0", 0),
    ("NC", 687, "", 0), ("NE", 227, "", 0), ("NF", 672, "", 0), ("NG", 234, "0", 0), ("NI", 505, "", 0), ("NL", 31, "0", 0),
    ("NO", 47, "", 0), ("NP", 977, "0", 0), ("NR", 674, "", 0), ("NU", 683, "", 0), ("NZ", 64, "0", 0), ("OM", 968, "", 0),
    ("PA", 507, "", 0), ("PE", 51, "0", 0), ("PF", 689, "", 0), ("PG", 675, "", 0), ("PH", 63, "0", 0), ("PK", 92, "0", 0),
    ("PL", 48, "", 0), ("PM", 508, "0", 0), ("PR", 1, "1", 11), ("PS", 970, "0", 0), ("PT", 351, "", 0), ("PW", 680, "", 0),
    ("PY", 595, "0", 0), ("QA", 974, "", 0), ("RE", 262, "0", 0), ("RO", 40, "0", 0), ("RS", 381, "0", 0), ("RU", 7, "8", 11),
    ("RW", 250, "0", 0), ("SA", 966, "0", 0), ("SB", 677, "", 0), ("SC", 248, "", 0), ("SD", 249, "0", 0), ("SE", 46, "0", 0),
    ("SG", 65, "", 0), ("SH", 290, "", 0), ("SI", 386, "0", 0), ("SJ", 47, "", 0), ("SK", 421, "0", 0), ("SL", 232, "0", 0),
    ("SM", 378, "", 0), ("SN", 221, "", 0), ("SO", 252, "0", 0), ("SR", 597, "", 0), ("SS", 211, "0", 0), ("ST", 239, "", 0),
    ("SV", 503, "", 0), ("SX", 1, "1", 11), ("SY", 963, "0", 0), ("SZ", 268, "", 0), ("TC", 1, "1", 11), ("TD", 235, "", 0),
    ("TG", 228, "", 0), ("TH", 66, "0", 0), ("TJ", 992, "", 0), ("TK", 690, "", 0), ("TL", 670, "", 0), ("TM", 993, "8", 9),
    ("TN", 216, "", 0), ("TO", 676, "", 0), ("TR", 90, "0", 0), ("TT", 1, "1", 11), ("TV", 688, "", 0), ("TW", 886, "0", 0),
    ("TZ", 255, "0", 0), ("UA", 380, "0", 0), ("UG", 256, "0", 0), ("US", 1, "1", 11), ("UY", 598, "0", 0), ("UZ", 998, "", 0),
    ("VA", 39, "", 0), ("VC", 1, "1", 11), ("VE", 58, "0", 0), ("VG", 1, "1", 11), ("VI", 1, "1", 11), ("VN", 84, "0", 0),
    ("VU", 678, "", 0), ("WF", 681, "", 0), ("WS", 685, "", 0), ("YE", 967, "0", 0), ("YT", 262, "0", 0), ("ZA", 27, "0", 0),
    ("ZM", 260, "0", 0), ("ZW", 263, "0", 0),
];

/// Two-digit country calling codes; the only one-digit codes are 1 and 7 and every
/// other code has three digits (ITU-T E.164 assignments form a prefix code).
#[rustfmt::skip]
const TWO_DIGIT_CODES: &[u8] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58,
    60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

fn err(message: impl Into<String>) -> DomainError {
    DomainError::new(CODE, message)
}

fn lookup(country: &str) -> Option<&'static (&'static str, u16, &'static str, u8)> {
    let iso = country.trim().to_ascii_uppercase();
    CALLING_CODES
        .binary_search_by(|e| e.0.cmp(iso.as_str()))
        .ok()
        .map(|i| &CALLING_CODES[i])
}

/// Country calling code for an ISO 3166-1 alpha-2 code (case-insensitive), e.g. `"CN"` → `86`.
pub fn calling_code(country: &str) -> Option<u16> {
    lookup(country).map(|e| e.1)
}

/// Splits international digits (without `+`) into `(calling code, national number)`.
/// Returns `None` if the input is not all ASCII digits, starts with `0`, or has no
/// digits after the calling code.
pub fn split_calling_code(digits: &str) -> Option<(&str, &str)> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return None;
    }
    let b = digits.as_bytes();
    let len = if b[0] == b'1' || b[0] == b'7' {
        1
    } else if b.len() >= 2 && TWO_DIGIT_CODES.contains(&((b[0] - b'0') * 10 + (b[1] - b'0'))) {
        2
    } else {
        3
    };
    if digits.len() <= len {
        None
    } else {
        Some(digits.split_at(len))
    }
}

/// A phone number.
///
/// Normally stored in E.164 form: `+` followed by 8–15 digits. Input may contain
/// spaces, `-`, `.`, `/` and parentheses; a leading `+` or `00` marks an
/// international number (an inserted `(0)` such as in `+44 (0)20 …` is ignored).
/// A national number is converted with the calling code of the given ISO country,
/// dropping the country's trunk prefix (`0`, `06` for HU, `1` for NANP, `8` for RU/KZ, …).
///
/// Not normalised: when the input has no `+`/`00` and no country with a known calling
/// code is given, the number is kept as its 6–15 digits *without* a `+`
/// ([`PhoneNumber::is_e164`] returns `false`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str, country: Option<&str>) -> Result<PhoneNumber, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("phone number is empty"));
        }
        let plus = trimmed.starts_with('+');
        let body = if plus { &trimmed[1..] } else { trimmed };
        let body = if plus || body.starts_with("00") {
            body.replace("(0)", "")
        } else {
            body.to_string()
        };
        let mut digits = String::with_capacity(body.len());
        for c in body.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !(c.is_whitespace() || matches!(c, '-' | '.' | '/' | '(' | ')')) {
                return Err(err(format!(
                    "phone number contains invalid character {c:?}"
                )));
            }
        }
        if digits.is_empty() {
            return Err(err("phone number has no digits"));
        }
        if plus || digits.starts_with("00") {
            let intl = if plus { digits.as_str() } else { &digits[2..] };
            if intl.starts_with('0') {
                return Err(err("country calling code cannot start with 0"));
            }
            return e164(intl);
        }
        if let Some(&(_, code, trunks, need_len)) = country.and_then(lookup) {
            let mut national = digits.as_str();
            for t in trunks.split('|').filter(|t| !t.is_empty()) {
                if national.starts_with(t) && (need_len == 0 || national.len() == need_len as usize)
                {
                    national = &national[t.len()..];
                    break;
                }
            }
            if national.is_empty() {
                return Err(err("phone number has no digits after the trunk prefix"));
            }
            return e164(&format!("{code}{national}"));
        }
        if !(6..=15).contains(&digits.len()) {
            return Err(err(
                "phone number without country code must have 6-15 digits",
            ));
        }
        Ok(PhoneNumber(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` if the number is stored in E.164 form (`+` and 8–15 digits).
    pub fn is_e164(&self) -> bool {
        self.0.starts_with('+')
    }

    /// The country calling code of an E.164 number (e.g. `"86"`); `None` if not normalised.
    pub fn calling_code(&self) -> Option<&str> {
        self.0
            .strip_prefix('+')
            .and_then(split_calling_code)
            .map(|(c, _)| c)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn e164(digits: &str) -> Result<PhoneNumber, DomainError> {
    if !(8..=15).contains(&digits.len()) {
        return Err(err("international phone number must have 8-15 digits"));
    }
    Ok(PhoneNumber(format!("+{digits}")))
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parses without a default country (see [`PhoneNumber::parse`]).
impl FromStr for PhoneNumber {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::parse(s, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str, c: Option<&str>) -> String {
        PhoneNumber::parse(s, c)
            .unwrap_or_else(|e| panic!("{s:?} {c:?}: {e}"))
            .to_string()
    }

    #[test]
    fn international_forms() {
        assert_eq!(ok("+86 138-1234-5678", None), "+8613812345678");
        assert_eq!(ok("0086 13812345678", Some("US")), "+8613812345678");
        assert_eq!(ok(" +1 (415) 555.0123 ", Some("CN")), "+14155550123");
        assert_eq!(ok("+44 (0)20 7946 0958", None), "+442079460958");
        assert_eq!(ok("0049 (0)30 1234567", None), "+49301234567");
    }

    #[test]
    fn national_forms_with_country() {
        #[rustfmt::skip]
        let cases = [
            ("13812345678", "CN", "+8613812345678"), ("010 1234 5678", "cn", "+861012345678"),
            ("(415) 555-0123", "US", "+14155550123"), ("1 415 555 0123", "US", "+14155550123"),
            ("604.555.0199", "CA", "+16045550199"), ("020 7946 0958", "GB", "+442079460958"),
            ("030/1234567", "DE", "+49301234567"), ("06 12 34 56 78", "FR", "+33612345678"),
            ("090-1234-5678", "JP", "+819012345678"), ("98765 43210", "IN", "+919876543210"),
            ("9123 4567", "SG", "+6591234567"), ("2345 6789", "HK", "+85223456789"),
            ("0912 345 678", "TW", "+886912345678"), ("0412 345 678", "AU", "+61412345678"),
            ("06 1234 5678", "NL", "+31612345678"), ("044 668 18 00", "CH", "+41446681800"),
            ("070-123 45 67", "SE", "+46701234567"), ("612 34 56 78", "ES", "+34612345678"),
            ("06 1234 5678", "IT", "+390612345678"), ("(11) 91234-5678", "BR", "+5511912345678"),
            ("55 1234 5678", "MX", "+525512345678"), ("010-1234-5678", "KR", "+821012345678"),
            ("8 912 345 67 89", "RU", "+79123456789"), ("912 345 67 89", "RU", "+79123456789"),
            ("06 30 123 4567", "HU", "+36301234567"), ("8 029 123 45 67", "BY", "+375291234567"),
        ];
        for (input, country, want) in cases {
            assert_eq!(ok(input, Some(country)), want, "{input} {country}");
        }
    }

    #[test]
    fn not_normalised_without_country() {
        let p = PhoneNumber::parse("021 555 0199", None).unwrap();
        assert_eq!(p.as_str(), "0215550199");
        assert!(!p.is_e164());
        assert_eq!(p.calling_code(), None);
        // A country without a calling code in the table also falls back.
        assert_eq!(ok("555 0199", Some("AQ")), "5550199");
        assert_eq!(ok("123456", None), "123456");
        let p: PhoneNumber = "+8613812345678".parse().unwrap();
        assert!(p.is_e164());
        assert_eq!(p.calling_code(), Some("86"));
        assert_eq!(p.into_string(), "+8613812345678");
    }

    #[test]
    fn rejects_invalid() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>)] = &[
            ("", None), ("   ", None), ("abc", None), ("+", None), ("+0123456789", None),
            ("000123456789", None), ("12345", None), ("1234567890123456", None), ("+1234567", None), ("+1234567890123456", None),
            ("555-CALL-NOW", Some("US")), ("+1 415 555 0123 ext 5", None), ("12+34567", None), ("0", Some("GB")), ("123", Some("DE")),
            ("+86#138", None),
        ];
        for &(s, c) in cases {
            let e = PhoneNumber::parse(s, c).expect_err(s);
            assert_eq!(e.code, "invalid_phone");
        }
    }

    #[test]
    fn calling_code_helpers() {
        assert_eq!(calling_code("us"), Some(1));
        assert_eq!(calling_code("CN"), Some(86));
        assert_eq!(calling_code("HK"), Some(852));
        assert_eq!(calling_code("AQ"), None);
        assert_eq!(calling_code("ZZ"), None);
        assert_eq!(
            split_calling_code("8613812345678"),
            Some(("86", "13812345678"))
        );
        assert_eq!(split_calling_code("14155550123"), Some(("1", "4155550123")));
        assert_eq!(split_calling_code("85223456789"), Some(("852", "23456789")));
        assert_eq!(split_calling_code("79123456789"), Some(("7", "9123456789")));
        assert_eq!(split_calling_code("0123"), None);
        assert_eq!(split_calling_code("86"), None);
        assert_eq!(split_calling_code("86a1"), None);
    }

    #[test]
    fn table_is_sorted_and_consistent() {
        assert!(CALLING_CODES.len() >= 60);
        for w in CALLING_CODES.windows(2) {
            assert!(w[0].0 < w[1].0, "{} !< {}", w[0].0, w[1].0);
        }
        for &(iso, code, _, _) in CALLING_CODES {
            let digits = format!("{code}123456");
            assert_eq!(
                split_calling_code(&digits).map(|(c, _)| c),
                Some(code.to_string().as_str()),
                "{iso}"
            );
        }
    }
}
