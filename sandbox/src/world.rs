//! The sandbox's simulated business: deterministic orders (seeded) across
//! currencies and destination countries, that arrive and change over time.
//!
//! Orders live here in a neutral form with integer money; each simulated
//! API (`shopify`, `example`) renders them in its own wire format. Tests
//! read this truth back (`GET /_sandbox/truth`) and compare it with what
//! tradelane stored.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Currencies the sandbox sells in, with their ISO 4217 decimals.
pub const CURRENCIES: &[(&str, u32)] = &[
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("JPY", 0),
    ("KWD", 3),
    ("CAD", 2),
    ("AUD", 2),
    ("CHF", 2),
];

/// Destinations: (country, name, city, region, postcode, VAT/sales tax in basis points).
pub const DESTINATIONS: &[(&str, &str, &str, &str, &str, u32)] = &[
    ("US", "United States", "Louisville", "KY", "40202", 600),
    ("DE", "Germany", "Berlin", "BE", "10115", 1900),
    ("FR", "France", "Lyon", "ARA", "69001", 2000),
    ("GB", "United Kingdom", "Leeds", "ENG", "LS1 4AP", 2000),
    ("JP", "Japan", "Osaka", "27", "530-0001", 1000),
    ("KW", "Kuwait", "Kuwait City", "KU", "13001", 0),
    ("CA", "Canada", "Toronto", "ON", "M5H 2N2", 1300),
    ("AU", "Australia", "Melbourne", "VIC", "3000", 1000),
    ("NL", "Netherlands", "Utrecht", "UT", "3511", 2100),
    ("IT", "Italy", "Milano", "MI", "20121", 2200),
    ("SE", "Sweden", "Göteborg", "O", "411 01", 2500),
    ("CH", "Switzerland", "Zürich", "ZH", "8001", 810),
    ("BR", "Brazil", "São Paulo", "SP", "01000-000", 0),
    ("MX", "Mexico", "Guadalajara", "JAL", "44100", 1600),
];

/// Products: (sku, title, variant, grams, base price in USD cents).
pub const PRODUCTS: &[(&str, &str, &str, u32, i64)] = &[
    ("MUG-CER-BLU", "Ceramic mug", "blue / 350 ml", 420, 1800),
    ("TEA-SEN-100", "Sencha green tea", "100 g tin", 130, 1250),
    ("KNT-SCF-GRY", "Hand-knitted scarf", "grey", 210, 6400),
    ("WAL-LTH-BRN", "Leather wallet", "brown", 95, 4900),
    ("CND-SOY-LAV", "Soy candle", "lavender", 380, 2200),
    ("PRT-A3-MAP", "Art print A3", "vintage map", 60, 3000),
    ("SOC-WOL-38", "Wool socks", "EU 38-41", 80, 1500),
    ("BAG-CNV-NAT", "Canvas tote bag", "natural", 240, 2600),
];

const FIRST: &[&str] = &[
    "Bob", "Aiko", "Fatima", "Lena", "Marco", "Priya", "Jonas", "Chloé", "Diego", "Sven", "Yuki",
    "Amara",
];
const LAST: &[&str] = &[
    "Norman", "Tanaka", "Al-Sabah", "Schmidt", "Rossi", "Sharma", "Berg", "Martin", "García",
    "Larsson", "Sato", "Okafor",
];

/// One product line of a simulated order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimLine {
    pub id: u64,
    pub sku: String,
    pub title: String,
    pub variant: String,
    pub quantity: u32,
    pub price_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub grams: u32,
}

/// A simulated buyer and destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimCustomer {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address1: String,
    pub city: String,
    pub region: String,
    pub zip: String,
    pub country: String,
    pub country_name: String,
}

/// A recorded fulfillment (tracking pushed by tradelane).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimFulfillment {
    pub id: u64,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    pub tracking_company: String,
    pub created_at: DateTime<Utc>,
    pub line_item_ids: Vec<u64>,
    /// The pusher's own reference for it (Amazon's `packageReferenceId`).
    #[serde(default)]
    pub reference: Option<String>,
}

/// A simulated order, with integer money in its currency's minor units.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimOrder {
    pub id: u64,
    pub number: u64,
    pub currency: String,
    pub decimals: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub financial_status: String,
    /// When the payment was captured (none while pending).
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfillment_status: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub lines: Vec<SimLine>,
    pub shipping_title: String,
    pub shipping_minor: i64,
    pub tax_rate_bp: u32,
    pub customer: SimCustomer,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub revision: u32,
    pub fulfillments: Vec<SimFulfillment>,
}

impl SimOrder {
    /// Σ price × quantity.
    pub fn line_items_minor(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| l.price_minor * i64::from(l.quantity))
            .sum()
    }
    /// Σ line discounts.
    pub fn discount_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.discount_minor).sum()
    }
    /// Line items after discounts.
    pub fn subtotal_minor(&self) -> i64 {
        self.line_items_minor() - self.discount_minor()
    }
    /// Whether the goods are worth at most €150, the IOSS limit, at the
    /// sandbox's own rates (the currency's units per USD): a marketplace is
    /// the deemed supplier of an EU import, and declares its IOSS number,
    /// only then.
    pub fn within_ioss_limit(&self) -> bool {
        self.subtotal_minor() * per_usd("EUR") / per_usd(&self.currency) <= 15_000
    }
    /// Σ line taxes.
    pub fn tax_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.tax_minor).sum()
    }
    /// What the buyer paid.
    pub fn total_minor(&self) -> i64 {
        self.subtotal_minor() + self.shipping_minor + self.tax_minor()
    }
    /// `#1001`
    pub fn name(&self) -> String {
        format!("#{}", self.number)
    }
}

pub use crate::money::format_minor as decimal;

/// The sandbox's fixed rates: minor units of `currency` per 100 US cents.
pub fn per_usd(currency: &str) -> i64 {
    match currency {
        "JPY" => 150,
        "KWD" => 307,
        "EUR" => 92,
        "GBP" => 79,
        "CAD" => 137,
        "AUD" => 152,
        "CHF" => 88,
        _ => 100,
    }
}

/// All simulated orders, and the generator that makes more.
pub struct World {
    rng: fastrand::Rng,
    pub orders: BTreeMap<u64, SimOrder>,
    next_id: u64,
    next_number: u64,
    next_line: u64,
    next_fulfillment: u64,
    /// Every order in this currency (a marketplace that shows the shop's
    /// currency, as Etsy does), instead of the buyer's.
    currency: Option<(&'static str, u32)>,
}

impl World {
    /// `count` orders created over the 30 days before `now`, from `seed`.
    pub fn new(seed: u64, count: u32, now: DateTime<Utc>) -> Self {
        Self::populated(seed, count, now, None)
    }

    /// [`World::new`] with every order in `currency` (one of [`CURRENCIES`]).
    pub fn in_currency(seed: u64, count: u32, now: DateTime<Utc>, currency: &str) -> Self {
        let fixed = CURRENCIES.iter().copied().find(|(c, _)| *c == currency);
        Self::populated(seed, count, now, fixed)
    }

    fn populated(
        seed: u64,
        count: u32,
        now: DateTime<Utc>,
        currency: Option<(&'static str, u32)>,
    ) -> Self {
        let mut world = World {
            rng: fastrand::Rng::with_seed(seed),
            orders: BTreeMap::new(),
            next_id: 450_789_469,
            next_number: 1001,
            next_line: 466_157_049,
            next_fulfillment: 1_069_019_868,
            currency,
        };
        let now = now.trunc_subsecs(0);
        for _ in 0..count {
            let created = now - Duration::seconds(world.rng.i64(3600..30 * 86_400));
            let updated = (created + Duration::seconds(world.rng.i64(0..2 * 86_400))).min(now);
            world.add_order(created, updated);
        }
        world
    }

    /// A new order, created now.
    pub fn arrive(&mut self, now: DateTime<Utc>) -> u64 {
        let now = now.trunc_subsecs(0);
        self.add_order(now, now)
    }

    fn add_order(&mut self, created: DateTime<Utc>, updated: DateTime<Utc>) -> u64 {
        let rng = &mut self.rng;
        let drawn = CURRENCIES[rng.usize(..CURRENCIES.len())];
        let (currency, decimals) = self.currency.unwrap_or(drawn);
        let dest = DESTINATIONS[rng.usize(..DESTINATIONS.len())];
        // USD cents → this currency's minor units at a fixed sandbox rate.
        let scale = |usd_cents: i64| -> i64 { usd_cents * per_usd(currency) / 100 };
        let line_count = rng.usize(2..=4);
        let mut lines = Vec::with_capacity(line_count);
        for _ in 0..line_count {
            let (sku, title, variant, grams, usd) = PRODUCTS[rng.usize(..PRODUCTS.len())];
            let quantity = rng.u32(1..=3);
            let price_minor = scale(usd);
            let gross = price_minor * i64::from(quantity);
            let discount_minor = if rng.u8(..4) == 0 { gross / 10 } else { 0 };
            let tax_minor = (gross - discount_minor) * i64::from(dest.5) / 10_000;
            lines.push(SimLine {
                id: self.next_line,
                sku: sku.into(),
                title: title.into(),
                variant: variant.into(),
                quantity,
                price_minor,
                discount_minor,
                tax_minor,
                grams,
            });
            self.next_line += 1;
        }
        let first = FIRST[rng.usize(..FIRST.len())];
        let last = LAST[rng.usize(..LAST.len())];
        let id = self.next_id;
        let paid = rng.u8(..5) != 0;
        let order = SimOrder {
            id,
            number: self.next_number,
            currency: currency.into(),
            decimals,
            created_at: created,
            updated_at: updated,
            financial_status: if paid {
                "paid".into()
            } else {
                "pending".into()
            },
            paid_at: paid.then_some(created),
            fulfillment_status: None,
            cancelled_at: None,
            shipping_title: if rng.bool() {
                "International Standard".into()
            } else {
                "International Express".into()
            },
            shipping_minor: scale(rng.i64(5..25) * 100),
            tax_rate_bp: dest.5,
            customer: SimCustomer {
                id: 207_119_551 + id % 10_000,
                first_name: first.into(),
                last_name: last.into(),
                email: format!("{}.{}@mail.example.com", first.to_lowercase(), id),
                phone: format!("+{}", 10_000_000_000u64 + id % 9_000_000_000),
                address1: format!("{} Chestnut Street", rng.u32(1..200)),
                city: dest.2.into(),
                region: dest.3.into(),
                zip: dest.4.into(),
                country: dest.0.into(),
                country_name: dest.1.into(),
            },
            tags: Vec::new(),
            note: None,
            revision: 0,
            fulfillments: Vec::new(),
            lines,
        };
        self.orders.insert(id, order);
        self.next_id += 1 + rng.u64(0..7);
        self.next_number += 1;
        id
    }

    /// Change one existing order (payment captured, tag added, cancelled…).
    pub fn update_random(&mut self, now: DateTime<Utc>) -> Option<u64> {
        if self.orders.is_empty() {
            return None;
        }
        let index = self.rng.usize(..self.orders.len());
        let id = *self.orders.keys().nth(index)?;
        let change = self.rng.u8(..4);
        let order = self.orders.get_mut(&id)?;
        match change {
            0 if order.financial_status == "pending" => {
                order.financial_status = "paid".into();
                order.paid_at = Some(now.trunc_subsecs(0));
            }
            1 => order.tags.push(format!("vip-{}", order.revision + 1)),
            2 if order.cancelled_at.is_none()
                && order.fulfillment_status.is_none()
                && order.revision > 2 =>
            {
                order.cancelled_at = Some(now.trunc_subsecs(0));
                order.financial_status = "refunded".into();
            }
            _ => {
                order.note = Some(format!(
                    "buyer asked for gift wrap (rev {})",
                    order.revision + 1
                ))
            }
        }
        order.revision += 1;
        order.updated_at = now.trunc_subsecs(0).max(order.updated_at);
        Some(id)
    }

    /// Set an order's `updated_at` (tests: an update exactly at the cursor).
    pub fn touch(&mut self, id: u64, at: DateTime<Utc>) -> bool {
        match self.orders.get_mut(&id) {
            Some(o) => {
                o.revision += 1;
                o.note = Some(format!("touched (rev {})", o.revision));
                o.updated_at = at;
                true
            }
            None => false,
        }
    }

    /// Make an order's shipping address one carriers refuse (`000 …`), or
    /// correct it again; either way the order changes, as when the buyer
    /// edits it on the channel.
    pub fn set_address_valid(&mut self, id: u64, valid: bool, now: DateTime<Utc>) -> bool {
        let Some(o) = self.orders.get_mut(&id) else {
            return false;
        };
        let street = o.customer.address1.trim_start_matches("000 ").to_string();
        o.customer.address1 = if valid {
            street
        } else {
            format!("000 {street}")
        };
        o.revision += 1;
        o.updated_at = now
            .trunc_subsecs(0)
            .max(o.updated_at + Duration::seconds(1));
        true
    }

    /// Record a fulfillment pushed by the client.
    pub fn fulfill(
        &mut self,
        id: u64,
        tracking_number: String,
        tracking_url: Option<String>,
        company: String,
        now: DateTime<Utc>,
    ) -> Option<SimFulfillment> {
        let fid = self.next_fulfillment;
        let order = self.orders.get_mut(&id)?;
        let f = SimFulfillment {
            id: fid,
            tracking_number,
            tracking_url,
            tracking_company: company,
            created_at: now.trunc_subsecs(0),
            line_item_ids: order.lines.iter().map(|l| l.id).collect(),
            reference: None,
        };
        order.fulfillments.push(f.clone());
        order.fulfillment_status = Some("fulfilled".into());
        order.revision += 1;
        order.updated_at = now.trunc_subsecs(0).max(order.updated_at);
        self.next_fulfillment += 1;
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_world() {
        let now = Utc::now();
        let a = World::new(7, 30, now);
        let b = World::new(7, 30, now);
        let key = |w: &World| {
            w.orders
                .values()
                .map(|o| (o.id, o.total_minor(), o.currency.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        let currencies: std::collections::HashSet<_> =
            a.orders.values().map(|o| o.currency.as_str()).collect();
        assert!(currencies.len() >= 4, "{currencies:?}");
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(1999, 2), "19.99");
        assert_eq!(decimal(5, 3), "0.005");
        assert_eq!(decimal(1500, 0), "1500");
    }
}
