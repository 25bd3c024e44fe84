//! Who is calling and what they may do.
//!
//! A request authenticates with `Authorization: Bearer <credential>`, where the
//! credential is either an access token (a JWT from `/v1/auth/token`) or an
//! API key (`rpk_…`). Handlers take a [`Principal`] and call
//! [`Principal::require`] with the area and level the endpoint needs.

pub mod api_key_check;
pub mod password;
pub mod principal;
pub mod refresh;
pub mod routes;
pub mod secret;
pub mod sign_in_throttle;
pub mod standing;
pub mod tokens;

pub use principal::Principal;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

crate::choice! {
    /// A staff member's role. Admins do everything; managers all CRM data; agents
    /// read and write CRM data; viewers read, with personal data masked.
    pub enum Role {
        Admin = "admin",
        Manager = "manager",
        Agent = "agent",
        Viewer = "viewer",
    }
}

impl Role {
    /// The highest level this role reaches in any CRM area.
    fn max_level(self) -> Level {
        match self {
            Role::Admin => Level::Admin,
            Role::Manager => Level::Manage,
            Role::Agent => Level::Write,
            Role::Viewer => Level::Read,
        }
    }
}

/// A part of the API, named as in API-key scopes (`contacts:read`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Accounts,
    Contacts,
    Channels,
    Interactions,
    Feedback,
    Engagements,
    Transactions,
    Tasks,
    Segments,
    Metrics,
    Loyalty,
    Audit,
    Users,
    ApiKeys,
    Settings,
}

impl Level {
    /// A scope word (`read`, `write`, `manage`) as a level.
    pub fn parse(word: &str) -> Option<Level> {
        match word {
            "read" => Some(Level::Read),
            "write" => Some(Level::Write),
            "manage" => Some(Level::Manage),
            _ => None,
        }
    }

    /// The scope word that reaches this level (`admin` is no scope: API keys never reach it).
    pub fn scope_word(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Manage => "manage",
            Level::Admin => "admin",
        }
    }
}

impl Area {
    pub const ALL: [Area; 15] = [
        Area::Accounts,
        Area::Contacts,
        Area::Channels,
        Area::Interactions,
        Area::Feedback,
        Area::Engagements,
        Area::Transactions,
        Area::Tasks,
        Area::Segments,
        Area::Metrics,
        Area::Loyalty,
        Area::Audit,
        Area::Users,
        Area::ApiKeys,
        Area::Settings,
    ];

    pub fn parse(name: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Accounts => "accounts",
            Area::Contacts => "contacts",
            Area::Channels => "channels",
            Area::Interactions => "interactions",
            Area::Feedback => "feedback",
            Area::Engagements => "engagements",
            Area::Transactions => "transactions",
            Area::Tasks => "tasks",
            Area::Segments => "segments",
            Area::Metrics => "metrics",
            Area::Loyalty => "loyalty",
            Area::Audit => "audit",
            Area::Users => "users",
            Area::ApiKeys => "api_keys",
            Area::Settings => "settings",
        }
    }

    /// Areas only admins reach; API keys never do.
    pub fn admin_only(self) -> bool {
        matches!(self, Area::Users | Area::ApiKeys | Area::Settings)
    }
}

/// What an endpoint does with its area, from least to most privileged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Read data.
    Read,
    /// Create and edit records.
    Write,
    /// Delete, merge, import, erase; read the audit log.
    Manage,
    /// Users, API keys, settings.
    Admin,
}

/// The scopes an API key may hold: `<area>:read`, `<area>:write` and
/// `<area>:manage` for every CRM area, each implying the ones before it, so a
/// key reaches what the matching role reaches: `write` is an agent's (create
/// and edit), `manage` a manager's (delete, merge, import, erase, person
/// export, loyalty adjust/reverse/cancel).
pub fn valid_scopes() -> Vec<String> {
    Area::ALL
        .iter()
        .filter(|a| !a.admin_only())
        .flat_map(|a| {
            [
                format!("{}:read", a.as_str()),
                format!("{}:write", a.as_str()),
                format!("{}:manage", a.as_str()),
            ]
        })
        .collect()
}

/// Whether a role may act at `level` in `area`.
pub fn role_allows(role: Role, area: Area, level: Level) -> bool {
    if area.admin_only() {
        return role == Role::Admin;
    }
    // The audit log shows who did what: managers and admins only, even to read.
    if area == Area::Audit {
        return matches!(role, Role::Admin | Role::Manager) && level <= role.max_level();
    }
    level <= role.max_level()
}

/// Whether API-key scopes allow acting at `level` in `area`.
pub fn scopes_allow(scopes: &[String], area: Area, level: Level) -> bool {
    if area.admin_only() || level == Level::Admin {
        return false;
    }
    scopes.iter().any(|scope| {
        let Some((scope_area, scope_level)) = scope.split_once(':') else {
            return false;
        };
        let Some(granted) = Level::parse(scope_level) else {
            return false;
        };
        scope_area == area.as_str() && level <= granted
    })
}

/// `bytes` random bytes, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// `bytes` random bytes, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_reach_their_levels() {
        assert!(role_allows(Role::Viewer, Area::Contacts, Level::Read));
        assert!(!role_allows(Role::Viewer, Area::Contacts, Level::Write));
        assert!(role_allows(Role::Agent, Area::Contacts, Level::Write));
        assert!(!role_allows(Role::Agent, Area::Contacts, Level::Manage));
        assert!(role_allows(Role::Manager, Area::Contacts, Level::Manage));
        assert!(role_allows(Role::Admin, Area::Contacts, Level::Manage));
    }

    #[test]
    fn only_admins_reach_users_and_keys() {
        for role in [Role::Manager, Role::Agent, Role::Viewer] {
            assert!(!role_allows(role, Area::Users, Level::Read));
            assert!(!role_allows(role, Area::ApiKeys, Level::Admin));
        }
        assert!(role_allows(Role::Admin, Area::Users, Level::Admin));
    }

    #[test]
    fn only_managers_and_admins_read_the_audit_log() {
        assert!(!role_allows(Role::Agent, Area::Audit, Level::Read));
        assert!(!role_allows(Role::Viewer, Area::Audit, Level::Read));
        assert!(role_allows(Role::Manager, Area::Audit, Level::Read));
        assert!(scopes_allow(
            &["audit:read".to_string()],
            Area::Audit,
            Level::Read
        ));
    }

    #[test]
    fn scopes_limit_api_keys() {
        let scopes = vec!["feedback:write".to_string(), "contacts:read".to_string()];
        assert!(scopes_allow(&scopes, Area::Feedback, Level::Write));
        assert!(scopes_allow(&scopes, Area::Feedback, Level::Read));
        assert!(scopes_allow(&scopes, Area::Contacts, Level::Read));
        assert!(!scopes_allow(&scopes, Area::Contacts, Level::Write));
        assert!(!scopes_allow(&scopes, Area::Loyalty, Level::Read));
        assert!(!scopes_allow(
            &["users:write".to_string()],
            Area::Users,
            Level::Read
        ));
    }

    #[test]
    fn valid_scopes_cover_crm_areas_only() {
        let scopes = valid_scopes();
        assert!(scopes.contains(&"loyalty:write".to_string()));
        assert!(!scopes.iter().any(|s| s.starts_with("users")));
    }
}
