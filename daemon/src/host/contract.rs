//! The contract version this host speaks, and which plugin versions it
//! accepts.
//!
//! The one place the version lives on the host side; a test holds it to the
//! `package` line of the WIT files both sides are generated from.

/// The `tradelane:plugin` package version this host is generated from.
pub const CONTRACT_VERSION: (u64, u64, u64) = (0, 1, 0);

/// The contract version as text.
pub fn contract_version() -> String {
    format!(
        "{}.{}.{}",
        CONTRACT_VERSION.0, CONTRACT_VERSION.1, CONTRACT_VERSION.2
    )
}

/// Whether a plugin built for `major.minor` loads here. Semver: under 1.0
/// a minor is a major; a plugin may be older than the host, never newer.
pub fn compatible(major: u64, minor: u64) -> bool {
    let (host_major, host_minor, _) = CONTRACT_VERSION;
    major == host_major
        && if host_major == 0 {
            minor == host_minor
        } else {
            minor <= host_minor
        }
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
    fn only_this_minor_loads_before_1_0() {
        let (major, minor, _) = CONTRACT_VERSION;
        assert!(compatible(major, minor));
        assert!(!compatible(major + 1, minor));
        assert!(!compatible(major, minor + 1));
    }
}
