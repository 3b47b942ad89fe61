//! `relay-session` tests of storage quotas (**[RLY-16]**): a relay with the default limits,
//! an upload budget of [`BUDGET`] bytes per connection and a storage quota of [`QUOTA`]
//! bytes.

use quietwire::relay::{Limits, Request};

use super::script::{Script, Want};
use super::sessions::{Session, TTL, bytes, item, put, run};
use super::{Ids, RelayLimits, SessionTest};

/// The upload budget of every connection.
pub(super) const BUDGET: u64 = 4000;

/// The storage quota.
pub(super) const QUOTA: u64 = 3000;

/// The group's limits.
pub(super) fn limits() -> RelayLimits {
    RelayLimits {
        upload_budget: Some(BUDGET),
        storage_quota: Some(QUOTA),
        ..Limits::DEFAULT.into()
    }
}

fn blob(data: &[u8]) -> Request {
    Request::BlobPut { blob: data.to_vec(), ttl: TTL }
}

/// The tests.
pub(super) fn quota_tests(ids: &mut Ids) -> Result<Vec<SessionTest>, String> {
    let sessions: &[Session] = &crate::tuples! {
        "upload-budget", &["Quota"], upload_budget,
            "upload budget 4000: puts and blob-puts answered ok count, deletes give nothing back; one byte more is relay.quota (closing = false) for a put, a blob-put and a retried put";
        "storage-quota", &["Quota"], storage_quota,
            "storage quota 3000: a write that would hold more is relay.storage_full (closing = false), one that reaches it exactly is stored; a delete frees room";
    };
    run(ids, &|slug| Script::with_quotas(slug, Limits::DEFAULT, BUDGET, QUOTA), sessions)
}

fn upload_budget(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    let first = bytes(&format!("{slug}/1"), 1500);
    s.put(a.id(), item(slug, 1), &first, TTL, true)?;
    s.blob_put(&bytes(&format!("{slug}/blob"), 1000), TTL)?;
    // Deleting frees storage but not budget.
    s.delete(&a, &[item(slug, 1)], 1)?;
    s.put(a.id(), item(slug, 2), &bytes(&format!("{slug}/2"), 1500), TTL, true)?;
    crate::rows! { s.send:
        put(a.id(), item(slug, 3), &bytes(&format!("{slug}/3"), 1), TTL), Want::Fail("relay.quota");
        blob(&bytes(&format!("{slug}/blob2"), 1)), Want::Fail("relay.quota");
    }
    // A retried put counts as well.
    crate::rows! { s.send:
        put(a.id(), item(slug, 2), &bytes(&format!("{slug}/2"), 1500), TTL),
            Want::Fail("relay.quota");
    }
    Ok(())
}

fn storage_quota(s: &mut Script, slug: &str) -> Result<(), String> {
    let a = s.key("a");
    s.put(a.id(), item(slug, 1), &bytes(&format!("{slug}/1"), 2000), TTL, true)?;
    s.send(blob(&bytes(&format!("{slug}/blob"), 1001)), Want::Fail("relay.storage_full"))?;
    s.blob_put(&bytes(&format!("{slug}/blob"), 1000), TTL)?;
    crate::rows! { s.send:
        put(a.id(), item(slug, 2), &bytes(&format!("{slug}/2"), 1), TTL),
            Want::Fail("relay.storage_full");
    }
    s.delete(&a, &[item(slug, 1)], 1)?;
    s.put(a.id(), item(slug, 2), &bytes(&format!("{slug}/2"), 1), TTL, true)?;
    Ok(())
}
