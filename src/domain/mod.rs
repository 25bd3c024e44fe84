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

/// `sqlx::Type` for a Rust type stored as text on both engines (the choices
/// of `choice!` and the parsed values below).
#[macro_export]
macro_rules! text_column_type {
    ($ty:ty) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }
    };
}

/// A parsed value stored as its normalised text: the repository binds the
/// parsed type itself, so what reaches the database has passed its parse.
/// It reads as the text it holds (`Deref<Target = str>`).
macro_rules! stored_as_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl std::ops::Deref for $ty {
            type Target = str;

            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        $crate::text_column_type!($ty);

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.as_str().to_string(), buf)
            }
        }
    )+};
}

stored_as_text!(
    CountryCode,
    CurrencyCode,
    EmailAddress,
    LanguageTag,
    PhoneNumber,
    TimeZoneName
);
