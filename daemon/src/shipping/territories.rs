//! Special territories: places whose address carries an EU member's
//! country code but which lie outside the EU VAT area (Council Directive
//! 2006/112/EC, Article 6: "the Canary Islands", "Ceuta", "Melilla",
//! "Livigno", "Campione d'Italia", "Mount Athos", "the Island of
//! Heligoland", "the territory of Büsingen", "the Åland Islands"), and the
//! Channel Islands written with a GB postcode. Goods sent there cross a
//! fiscal border: they need a customs declaration, and EU IOSS does not
//! apply. They are told apart by postal code, since the country code alone
//! says ES, IT, GR, DE, FI or GB.
//!
//! Source: https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32006L0112
//! (Article 6); the postal code ranges are each territory's national ones.

use crate::model::Address;

/// One territory: the country code its addresses use, the postal code
/// prefixes that place it, and its name.
struct Territory {
    country: &'static str,
    prefixes: &'static [&'static str],
    name: &'static str,
}

const TERRITORIES: &[Territory] = &[
    Territory {
        country: "ES",
        prefixes: &["35", "38"],
        name: "the Canary Islands",
    },
    Territory {
        country: "ES",
        prefixes: &["51"],
        name: "Ceuta",
    },
    Territory {
        country: "ES",
        prefixes: &["52"],
        name: "Melilla",
    },
    Territory {
        country: "IT",
        prefixes: &["23041"],
        name: "Livigno",
    },
    Territory {
        country: "IT",
        prefixes: &["22061"],
        name: "Campione d'Italia",
    },
    Territory {
        country: "GR",
        prefixes: &["63086"],
        name: "Mount Athos",
    },
    Territory {
        country: "DE",
        prefixes: &["27498"],
        name: "Heligoland",
    },
    Territory {
        country: "DE",
        prefixes: &["78266"],
        name: "Büsingen am Hochrhein",
    },
    Territory {
        country: "FI",
        prefixes: &["22"],
        name: "the Åland Islands",
    },
    Territory {
        country: "GB",
        prefixes: &["JE", "GY"],
        name: "the Channel Islands",
    },
];

/// The special territory `address` lies in, if any.
pub fn special(address: &Address) -> Option<&'static str> {
    let code: String = address
        .postal_code
        .as_deref()?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    TERRITORIES
        .iter()
        .find(|t| {
            address.country.as_str() == t.country
                && t.prefixes.iter().any(|p| code.starts_with(p))
                // A 5-digit national code: a two-digit prefix names a province.
                && (t.country == "GB" || code.len() == 5)
        })
        .map(|t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Country;

    fn at(country: &str, postal: &str) -> Address {
        Address {
            name: None,
            company: None,
            line1: "1 Calle".into(),
            line2: None,
            city: "x".into(),
            region: None,
            postal_code: Some(postal.into()),
            country: Country::parse(country).unwrap(),
            phone: None,
            email: None,
        }
    }

    #[test]
    fn territories_are_told_apart_by_postal_code() {
        assert_eq!(special(&at("ES", "35001")), Some("the Canary Islands"));
        assert_eq!(special(&at("ES", "38400")), Some("the Canary Islands"));
        assert_eq!(special(&at("ES", "28013")), None, "Madrid");
        assert_eq!(special(&at("ES", "51001")), Some("Ceuta"));
        assert_eq!(special(&at("IT", "23041")), Some("Livigno"));
        assert_eq!(special(&at("IT", "23100")), None, "Sondrio");
        assert_eq!(special(&at("GR", "630 86")), Some("Mount Athos"));
        assert_eq!(special(&at("DE", "27498")), Some("Heligoland"));
        assert_eq!(special(&at("DE", "10115")), None);
        assert_eq!(special(&at("FI", "22100")), Some("the Åland Islands"));
        assert_eq!(special(&at("FI", "00100")), None, "Helsinki");
        assert_eq!(special(&at("GB", "JE2 3AB")), Some("the Channel Islands"));
        assert_eq!(special(&at("GB", "LS1 4AP")), None, "Leeds");
    }
}
