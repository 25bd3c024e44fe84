//! ISO 4217 currency code value type.

use super::error::DomainError;
use std::fmt;
use std::str::FromStr;

/// Active ISO 4217 alphabetic codes (List One, including fund and X-codes), sorted.
/// Withdrawn codes such as HRK, ANG, BGN, CUC, SLL and ZWL are not accepted.
#[rustfmt::skip]
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND",
    "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY",
    "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD",
    "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP",
    "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN",
    "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX",
    "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAD", "XAF", "XAG", "XAU", "XBA",
    "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR",
    "ZMW", "ZWG",
];

/// An active ISO 4217 alphabetic currency code, stored uppercase (e.g. `"EUR"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    pub fn parse(input: &str) -> Result<CurrencyCode, DomainError> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::new(
                "invalid_currency",
                "currency code must be three letters (ISO 4217)",
            ));
        }
        if CURRENCIES.binary_search(&s.as_str()).is_err() {
            return Err(DomainError::new(
                "invalid_currency",
                format!("{s:?} is not an active ISO 4217 currency code"),
            ));
        }
        Ok(CurrencyCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// All accepted codes, sorted.
    pub fn all() -> &'static [&'static str] {
        CURRENCIES
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CurrencyCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CurrencyCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CurrencyCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(CURRENCIES.len() >= 175);
        assert!(CURRENCIES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(CurrencyCode::all().len(), CURRENCIES.len());
    }

    #[test]
    fn accepts_and_uppercases() {
        for (input, want) in [
            ("usd", "USD"),
            (" eur ", "EUR"),
            ("Cny", "CNY"),
            ("jpy", "JPY"),
            ("XAU", "XAU"),
            ("ves", "VES"),
            ("XCG", "XCG"),
        ] {
            assert_eq!(CurrencyCode::parse(input).unwrap().to_string(), want);
        }
        let c: CurrencyCode = "gbp".parse().unwrap();
        assert_eq!(c.as_str(), "GBP");
    }

    #[test]
    fn rejects_invalid() {
        for s in [
            "", "US", "USDD", "RMB", "ABC", "HRK", "DEM", "VEF", "US1", "€", "u s",
        ] {
            let e = CurrencyCode::parse(s).expect_err(s);
            assert_eq!(e.code, "invalid_currency");
        }
    }
}
