//! ISO 3166-1 alpha-2 country code value type.

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

/// All 249 officially assigned ISO 3166-1 alpha-2 codes, sorted.
#[rustfmt::skip]
const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE",
    "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD",
    "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
    "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI",
    "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK",
    "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An officially assigned ISO 3166-1 alpha-2 country code, stored uppercase (e.g. `"CN"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(input: &str) -> Result<CountryCode, DomainError> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::new(
                "invalid_country",
                "country code must be two letters (ISO 3166-1 alpha-2)",
            ));
        }
        if COUNTRIES.binary_search(&s.as_str()).is_err() {
            return Err(DomainError::new(
                "invalid_country",
                format!("{s:?} is not an assigned ISO 3166-1 country code"),
            ));
        }
        Ok(CountryCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// All assigned codes, sorted.
    pub fn all() -> &'static [&'static str] {
        COUNTRIES
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CountryCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CountryCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CountryCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_sorted() {
        assert_eq!(COUNTRIES.len(), 249);
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(CountryCode::all().len(), 249);
    }

    #[test]
    fn accepts_and_uppercases() {
        for (input, want) in [
            ("cn", "CN"),
            (" us ", "US"),
            ("Gb", "GB"),
            ("AX", "AX"),
            ("ss", "SS"),
            ("TW", "TW"),
        ] {
            assert_eq!(CountryCode::parse(input).unwrap().to_string(), want);
        }
        let c: CountryCode = "de".parse().unwrap();
        assert_eq!(c.as_str(), "DE");
    }

    #[test]
    fn rejects_invalid() {
        // UK/EU are exceptionally reserved, XK is user-assigned, AN/YU are withdrawn.
        for s in [
            "", "C", "CHN", "UK", "EU", "XK", "ZZ", "AN", "YU", "1A", "C1", "ü", "c n",
        ] {
            let e = CountryCode::parse(s).expect_err(s);
            assert_eq!(e.code, "invalid_country");
        }
    }
}
