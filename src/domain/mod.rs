//! Domain value types ("parse, don't validate").
//!
//! Each type can only be constructed through `parse`, which normalises its input and
//! returns a [`DomainError`] with a stable `code` when the input is invalid.

pub mod choice;
pub mod country;
pub mod csv_cell;
pub mod currency;
pub mod custom_fields;
pub mod email;
pub mod error;
pub mod language;
pub mod mask;
pub mod phone;
pub mod stages;
pub mod tags;
pub mod time;
pub mod timezone;

pub use country::CountryCode;
pub use currency::CurrencyCode;
pub use email::EmailAddress;
pub use error::DomainError;
pub use language::LanguageTag;
pub use mask::{mask_email, mask_phone};
pub use phone::PhoneNumber;
pub use tags::Tags;
pub use timezone::TimeZoneName;

/// What erasure writes in place of free text that may have named the person.
pub const ERASED: &str = "[erased]";
