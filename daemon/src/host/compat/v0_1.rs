//! Contract 0.1.0: what it lacks next to the current contract.

use crate::host::bindings::types as new;
use crate::host::bindings::v0_1::{cache as cache01, http as http01, log as log01};
use crate::host::bindings::v0_1::{secrets as secrets01, types as old};

use super::Conv;

unchanged_since_0_1!(old <-> new);
grown_in_0_3!(old <-> new);
serve_imports!(http01, log01, secrets01, cache01, old);

records_up! { old -> new:
    RateLimit { milli_requests_per_second, burst, usage_header }
}

impl Conv<new::UsageHeader> for old::UsageHeader {
    fn conv(self) -> new::UsageHeader {
        match self {
            old::UsageHeader::UsedOfLimit(h) => new::UsageHeader::UsedOfLimit(h),
            old::UsageHeader::Remaining(h) => new::UsageHeader::Remaining(h),
        }
    }
}

grown! { old -> new:
    // A 0.1 order: one marketplace, shipped by the seller, no hold, and
    // nothing said about how it was paid.
    Order { external_id, number, created_at, updated_at, status, payment_status,
        fulfillment_status, currency, totals, buyer, shipping_address, billing_address,
        line_items, shipping_lines, tax_ids, marketplace_collected_tax, taxes_included, tags }
    + { marketplace: None, fulfilled_by: new::FulfilledBy::Seller, shipping_hold: None,
        payment_gateways: Vec::new(), presentment_total: None }
    // A 0.1 manifest: no per-operation limits, no managed OAuth.
    PluginManifest { name, version, kind, contract_version, description, settings,
        allowed_hosts, rate_limit }
    + { operation_limits: Vec::new(), oauth: Vec::new() }
}

grown! { http01 -> http:
    // A 0.1 request names no operation.
    Request { method, url, headers, body } + { operation: None }
}
