//! The contract version this host speaks, and which plugin versions it
//! accepts: the current one, and every older one whose frozen WIT it still
//! binds (`bindings::v0_1`), dispatched in one place (`load::Pre`).
//!
//! The one place the version lives on the host side; a test holds it to the
//! `package` line of the WIT files both sides are generated from.

/// The `tradelane:plugin` package version this host is generated from.
pub const CONTRACT_VERSION: (u64, u64, u64) = (0, 4, 0);

/// `major.minor` of every contract version a plugin may be built for.
pub const SUPPORTED: [(u64, u64); 4] = [(0, 1), (0, 2), (0, 3), (0, 4)];

/// The contract version as text.
pub fn contract_version() -> String {
    format!(
        "{}.{}.{}",
        CONTRACT_VERSION.0, CONTRACT_VERSION.1, CONTRACT_VERSION.2
    )
}

/// Whether a plugin built for `major.minor` loads here: a version this
/// host has bindings for. A plugin may be older than the host, never newer.
pub fn compatible(major: u64, minor: u64) -> bool {
    SUPPORTED.contains(&(major, minor))
}

/// The supported versions as text, for messages.
pub fn supported_versions() -> String {
    SUPPORTED
        .iter()
        .map(|(major, minor)| format!("{major}.{minor}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constant_is_the_wit_package_version() {
        let wit = include_str!("../../../plugin-sdk/wit/types.wit");
        let line = wit
            .lines()
            .find(|l| l.starts_with("package "))
            .expect("types.wit has a package line");
        assert_eq!(
            line,
            format!("package tradelane:plugin@{};", contract_version())
        );
    }

    #[test]
    fn this_and_the_kept_versions_load_and_nothing_newer() {
        let (major, minor, _) = CONTRACT_VERSION;
        assert!(compatible(major, minor));
        assert!(compatible(0, 1));
        assert!(!compatible(major + 1, minor));
        assert!(!compatible(major, minor + 1));
        assert!(!compatible(0, 0));
    }

    #[test]
    fn the_frozen_0_1_wit_is_0_1() {
        let wit = include_str!("../../wit/0.1.0/types.wit");
        assert!(wit.contains("package tradelane:plugin@0.1.0;"));
    }
}
