//! Contract 0.2.0: what it lacks next to the current contract.

use crate::host::bindings::types as new;
use crate::host::bindings::v0_2::{cache as cache02, http as http02, log as log02};
use crate::host::bindings::v0_2::{secrets as secrets02, types as old};

use super::Conv;

unchanged_since_0_1!(old <-> new);
grown_in_0_3!(old <-> new);
serve_imports!(http02, log02, secrets02, cache02, old);

records! { http02 <-> http:
    Request { method, url, headers, body, operation }
}

records! { old <-> new:
    RateLimit { milli_requests_per_second, burst, usage_header }
    OperationLimit { operation, milli_requests_per_second, burst }
}

// What only flows out of a plugin (the client authentication grew in 0.4).
records_up! { old -> new:
    OauthClient { name, token_url, grant, client_auth, body, client_id_setting,
        client_secret_setting, refresh_token_setting, scopes, authorize_url,
        redirect_uri_setting }
    PluginManifest { name, version, kind, contract_version, description, settings,
        allowed_hosts, rate_limit, operation_limits, oauth }
}

cases! { old <-> new:
    UsageHeader { UsedOfLimit(x), Remaining(x), RatePerSecond(x) }
    FulfilledBy { Seller, Marketplace }
    OauthGrant { RefreshToken, ClientCredentials }
    OauthBody { Form, Json }
}

cases_up! { old -> new:
    OauthClientAuth { Basic, Body }
}

grown! { old -> new:
    // A 0.2 order says nothing about how it was paid.
    Order { external_id, number, created_at, updated_at, status, payment_status,
        fulfillment_status, currency, totals, buyer, shipping_address, billing_address,
        line_items, shipping_lines, tax_ids, marketplace_collected_tax, taxes_included, tags,
        marketplace, fulfilled_by, shipping_hold }
    + { payment_gateways: Vec::new(), presentment_total: None }
}
