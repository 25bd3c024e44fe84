//! Masking of personal data for logs, previews and low-privilege views.

use super::phone::split_calling_code;

/// Masks every `email` and `phone` string in a JSON document (an event's
/// copy of a resource), as the resource's own `GET` masks them for viewers.
pub fn mask_contact_details(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match (key.as_str(), &item) {
                    ("email", Value::String(s)) => *item = Value::String(mask_email(s)),
                    ("phone", Value::String(s)) => *item = Value::String(mask_phone(s)),
                    _ => mask_contact_details(item),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_contact_details),
        _ => {}
    }
}

/// Masks an email address, keeping the first character of the local part and the
/// whole domain: `"pat@acme.example"` → `"p***@acme.example"`. Input without an
/// `@` becomes `"***"`.
pub fn mask_email(email: &str) -> String {
    match email.trim().rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Masks a phone number.
///
/// For an international number (`+…`) with at least 6 national digits: keeps the
/// country calling code and the last 4 digits, and for numbers of ≥ 11 digits also
/// the first 3 national digits (only when that still hides at least 3 digits); the
/// hidden part is always shown as `****` so its length is not revealed:
/// `"+8613812345678"` → `"+86 138****5678"`, `"+14155550123"` → `"+1 415****0123"`,
/// `"+6591234567"` → `"+65 ****4567"`.
/// Anything else (short, not normalised, unknown): every digit but the last 2 becomes
/// `*` and formatting is dropped (`"0215550199"` → `"********99"`); 2 or fewer digits
/// are all masked.
pub fn mask_phone(phone: &str) -> String {
    let s = phone.trim();
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if s.starts_with('+')
        && let Some((cc, national)) = split_calling_code(&digits)
        && national.len() >= 6
    {
        let last4 = &national[national.len() - 4..];
        let head = if digits.len() >= 11 && national.len() >= 10 {
            &national[..3]
        } else {
            ""
        };
        return format!("+{cc} {head}****{last4}");
    }
    let n = digits.len();
    if n <= 2 {
        return "*".repeat(n);
    }
    format!("{}{}", "*".repeat(n - 2), &digits[n - 2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(mask_email("pat@acme.example"), "p***@acme.example");
        assert_eq!(mask_email("p@acme.example"), "p***@acme.example");
        assert_eq!(mask_email(" Émile.Z@x.fr "), "É***@x.fr");
        assert_eq!(mask_email("@acme.example"), "***@acme.example");
        assert_eq!(mask_email("not-an-email"), "***");
        assert_eq!(mask_email(""), "***");
    }

    #[test]
    fn masks_international_phones() {
        assert_eq!(mask_phone("+8613812345678"), "+86 138****5678");
        assert_eq!(mask_phone("+14155550123"), "+1 415****0123");
        assert_eq!(mask_phone("+1 (415) 555-0123"), "+1 415****0123");
        assert_eq!(mask_phone("+442079460958"), "+44 207****0958");
        assert_eq!(mask_phone("+6591234567"), "+65 ****4567");
        assert_eq!(mask_phone("+85223456789"), "+852 ****6789");
        assert_eq!(mask_phone("+79123456789"), "+7 912****6789");
    }

    #[test]
    fn masks_short_or_unknown_phones() {
        assert_eq!(mask_phone("0215550199"), "********99");
        assert_eq!(mask_phone("+3312345"), "*****45");
        assert_eq!(mask_phone("+0123456789"), "********89");
        assert_eq!(mask_phone("123"), "*23");
        assert_eq!(mask_phone("12"), "**");
        assert_eq!(mask_phone(""), "");
    }
}
