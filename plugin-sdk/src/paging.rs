//! Offset pages that survive orders changing mid-pass.
//!
//! Many APIs page by offset over orders sorted by modification time
//! (eBay's getOrders, WooCommerce, Etsy). An order that changes while a
//! pass reads moves to the end, so every order behind it shifts back by
//! one and a reader going 0, 20, 40… skips one. Here every page after the
//! first starts [`overlap`] orders before where the previous one ended:
//! an order read twice is stored once (the host keys orders by id), and
//! one is skipped only if more than that many orders change between two
//! page reads. The page token is `v1:NEXT`, where the next page would
//! start without the overlap.
//!
//! ```
//! use tradelane_plugin_sdk::paging::OffsetPage;
//!
//! let first = OffsetPage::start(None, 20).unwrap();
//! assert_eq!(first.offset, 0);
//! // 20 orders read of 50: the next page starts four before the 20th.
//! let token = first.next(20, |read_to| read_to < 50).unwrap();
//! let second = OffsetPage::start(Some(&token), 20).unwrap();
//! assert_eq!(second.offset, 16);
//! ```

use crate::{PluginError, invalid_response};

/// Orders each page re-reads from the end of the previous one.
pub fn overlap(limit: u32) -> u32 {
    (limit / 5).max(1)
}

/// Where one page of a pass starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPage {
    /// The offset to ask the API for.
    pub offset: u64,
    /// Where this page would have started without the overlap.
    nominal: Option<u64>,
}

impl OffsetPage {
    /// The page `token` names (`None`: the first), for pages of `limit`.
    pub fn start(token: Option<&str>, limit: u32) -> Result<Self, PluginError> {
        let nominal = match token {
            None => None,
            Some(t) => Some(
                t.strip_prefix("v1:")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| invalid_response("not a page token of this plugin"))?,
            ),
        };
        Ok(OffsetPage {
            offset: nominal.map_or(0, |n: u64| n.saturating_sub(u64::from(overlap(limit)))),
            nominal,
        })
    }

    /// The next page's token after `read` orders came back, if `more(read_to)`
    /// says the API has orders past `read_to`. A page that got no further
    /// than the last one ended (all overlap) ends the pass, never loops.
    pub fn next(&self, read: usize, more: impl FnOnce(u64) -> bool) -> Option<String> {
        let read_to = self.offset + read as u64;
        let progress = self.nominal.is_none_or(|n| read_to > n);
        (read > 0 && progress && more(read_to)).then(|| format!("v1:{read_to}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_overlap_is_bounded_and_no_page_loops() {
        assert_eq!(overlap(200), 40);
        assert_eq!(overlap(3), 1);
        let first = OffsetPage::start(None, 200).unwrap();
        let token = first.next(200, |_| true).unwrap();
        assert_eq!(token, "v1:200");
        assert_eq!(OffsetPage::start(Some(&token), 200).unwrap().offset, 160);
        assert!(OffsetPage::start(Some("180"), 200).is_err());
        // All overlap, nothing new: the pass ends.
        let again = OffsetPage::start(Some("v1:200"), 200).unwrap();
        assert_eq!(again.next(40, |_| true), None);
        assert_eq!(first.next(0, |_| true), None, "an empty page ends");
        assert_eq!(first.next(10, |read_to| read_to < 10), None);
    }
}
