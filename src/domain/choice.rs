//! Closed lists of values (a channel's kind, an interaction's direction, …).
//!
//! Input types take these as plain strings checked with the generated
//! `validate` function, so a wrong value is a 422 that names the field and the
//! allowed values (serde would answer a terse 400); the OpenAPI schema still
//! shows the enum through `#[schema(value_type = TheEnum)]`.

/// Declares a `snake_case` string enum with `ALL`, `as_str`, `parse`,
/// `allowed` (the values joined by ", ") and `validate` (for
/// `#[validate(custom(function = "Enum::validate"))]`).
/// What a choice's `validate` reads: the text of a field, if it holds one.
pub trait ChoiceText {
    fn choice_text(&self) -> Option<&str>;
}

impl ChoiceText for str {
    fn choice_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl ChoiceText for String {
    fn choice_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: ChoiceText + ?Sized> ChoiceText for &T {
    fn choice_text(&self) -> Option<&str> {
        (**self).choice_text()
    }
}

impl ChoiceText for crate::http::patch::Patch<String> {
    fn choice_text(&self) -> Option<&str> {
        self.value().map(String::as_str)
    }
}

#[macro_export]
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:tt ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        // Stored as its text on both engines; a stored text that is not one
        // of the values is a decode error, never a silent default.
        $crate::text_column_type!($name);

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Self::parse(text).ok_or_else(|| {
                    format!("{text:?} is not a {} ({})", stringify!($name), Self::allowed()).into()
                })
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut DB::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The allowed values, for error messages.
            pub fn allowed() -> String {
                [$($text),+].join(", ")
            }

            /// The field-level check used by input types (on a `String`, an
            /// `Option` or a PATCH member; an absent value passes).
            pub fn validate<T: $crate::domain::choice::ChoiceText + ?Sized>(
                text: &T,
            ) -> Result<(), validator::ValidationError> {
                match text.choice_text().map(Self::parse) {
                    None | Some(Some(_)) => Ok(()),
                    Some(None) => Err(validator::ValidationError::new("invalid_choice")
                        .with_message(format!("must be one of: {}", Self::allowed()).into())),
                }
            }

            /// Parses a query parameter, answering 400 with the allowed values.
            pub fn from_query(param: &str, text: &str) -> Result<Self, $crate::http::ApiError> {
                Self::parse(text).ok_or_else(|| $crate::http::ApiError::bad_request(format!(
                    "{param}={text:?} is not valid: use one of {}.", Self::allowed()
                )))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::choice! {
        /// A test enum.
        pub enum Colour { Red = "red", DarkBlue = "dark_blue" }
    }

    #[test]
    fn values_round_trip() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(*c));
        }
        assert_eq!(serde_json::to_value(Colour::DarkBlue).unwrap(), "dark_blue");
        assert_eq!(Colour::parse("Red"), None);
    }

    #[tokio::test]
    async fn a_stored_text_decodes_and_an_unknown_one_is_an_error_not_a_default() {
        let db = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let stored: Colour = sqlx::query_scalar("SELECT 'dark_blue'")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(stored, Colour::DarkBlue);
        let unknown = sqlx::query_scalar::<_, Colour>("SELECT 'purple'")
            .fetch_one(&db)
            .await;
        assert!(
            matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })),
            "{unknown:?}"
        );
        let written: String = sqlx::query_scalar("SELECT $1")
            .bind(Colour::Red)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(written, "red");
    }

    #[test]
    fn a_wrong_value_names_the_allowed_ones() {
        let err = Colour::validate("green").unwrap_err();
        assert_eq!(err.code, "invalid_choice");
        assert_eq!(err.message.unwrap(), "must be one of: red, dark_blue");
        assert!(Colour::from_query("colour", "green").is_err());
    }
}
