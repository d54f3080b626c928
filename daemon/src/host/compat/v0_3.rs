//! Contract 0.3.0: what it lacks next to the current contract. Only the
//! OAuth client authentication grew (`none`, a public client with PKCE),
//! so everything else crosses unchanged, and a 0.3 manifest is read as is.

use crate::host::bindings::types as new;
use crate::host::bindings::v0_3::{cache as cache03, http as http03, log as log03};
use crate::host::bindings::v0_3::{secrets as secrets03, types as old};

use super::Conv;

unchanged_since_0_1!(old <-> new);
serve_imports!(http03, log03, secrets03, cache03, old);

records! { http03 <-> http:
    Request { method, url, headers, body, operation }
}

records! { old <-> new:
    LineItem { external_id, sku, title, quantity, unit_price, discount, tax, weight_grams,
        hs_code, origin_country, requires_shipping, gtin }
    CustomsLine { sku, description, hs_code, origin_country, quantity, value, weight_grams,
        gtin }
    CustomsForm { kind, name, format, document, document_url }
    Label { external_id, tracking_number, tracking_url, carrier, service, cost, format,
        document, document_url, forms }
    Order { external_id, number, created_at, updated_at, status, payment_status,
        fulfillment_status, currency, totals, buyer, shipping_address, billing_address,
        line_items, shipping_lines, tax_ids, marketplace_collected_tax, taxes_included, tags,
        marketplace, fulfilled_by, shipping_hold, payment_gateways, presentment_total }
    RateLimit { milli_requests_per_second, burst, usage_header }
    OperationLimit { operation, milli_requests_per_second, burst }
}

cases! { old <-> new:
    UsageHeader { UsedOfLimit(x), Remaining(x), RatePerSecond(x) }
    FulfilledBy { Seller, Marketplace }
    CustomsFormKind { CommercialInvoice, Cn22, Cn23, Other }
    OauthGrant { RefreshToken, ClientCredentials }
    OauthBody { Form, Json }
}

cases_up! { old -> new:
    OauthClientAuth { Basic, Body }
}

records_up! { old -> new:
    OauthClient { name, token_url, grant, client_auth, body, client_id_setting,
        client_secret_setting, refresh_token_setting, scopes, authorize_url,
        redirect_uri_setting }
    PluginManifest { name, version, kind, contract_version, description, settings,
        allowed_hosts, rate_limit, operation_limits, oauth }
}
