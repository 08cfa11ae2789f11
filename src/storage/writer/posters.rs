//! Writing what is stored about posters: a post's record with the post, its removal with the
//! post, its move with the post's thread, and the erasure of addresses past the retention time.

use redb::{ReadableTable, WriteTransaction};

use super::{stored, Applied, Written};
use crate::model::{Origin, PosterRecord};
use crate::poster::Keys;
use crate::storage::{encode, ADDRESS_AGE, POSTERS, POSTER_CLOAKS};

/// Addresses erased per transaction: the erasure takes turns with other writes.
pub const ERASE_CHUNK: usize = 256;

/// Records who wrote post `no`, in the post's transaction.
pub(super) fn record(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    origin: &Origin,
    now: u64,
) -> Result<(), redb::Error> {
    let record = PosterRecord {
        address: Some(origin.address.to_canonical()),
        cloak: origin.cloak.clone(),
        cloak_board: None,
        at: now,
    };
    txn.open_table(POSTERS)?
        .insert((slug, no), encode(&record).as_slice())?;
    txn.open_table(POSTER_CLOAKS)?
        .insert((slug, origin.cloak.as_str(), no), ())?;
    txn.open_table(ADDRESS_AGE)?.insert((now, slug, no), ())?;
    Ok(())
}

/// Removes post `no`'s record and its index rows, in the transaction removing the post.
pub(super) fn forget(txn: &WriteTransaction, slug: &str, no: u64) -> Result<(), redb::Error> {
    let record = {
        let mut posters = txn.open_table(POSTERS)?;
        let removed = posters.remove((slug, no))?;
        removed
            .map(|v| stored::<PosterRecord>(v.value()))
            .transpose()?
    };
    let Some(record) = record else {
        return Ok(());
    };
    txn.open_table(POSTER_CLOAKS)?
        .remove((slug, record.cloak.as_str(), no))?;
    if record.address.is_some() {
        txn.open_table(ADDRESS_AGE)?.remove((record.at, slug, no))?;
    }
    Ok(())
}

/// Erases the addresses of up to [`ERASE_CHUNK`] posts and reports made more than
/// `retention_secs` before `now`, oldest first, keeping their cloaks. Answers how many it erased: a full
/// chunk means more may be waiting.
pub(super) fn erase(txn: &WriteTransaction, retention_secs: u64, now: u64) -> Applied {
    let cutoff = now.saturating_sub(retention_secs);
    let due: Vec<(u64, String, u64)> = {
        let age = txn.open_table(ADDRESS_AGE)?;
        let range = age.range(..(cutoff, "", 0))?;
        range
            .take(ERASE_CHUNK)
            .map(|row| {
                row.map(|(key, _)| {
                    let (at, slug, no) = key.value();
                    (at, slug.to_owned(), no)
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut age = txn.open_table(ADDRESS_AGE)?;
    let mut posters = txn.open_table(POSTERS)?;
    for (at, slug, no) in &due {
        age.remove((*at, slug.as_str(), *no))?;
        let record = posters
            .get((slug.as_str(), *no))?
            .map(|v| stored::<PosterRecord>(v.value()))
            .transpose()?;
        if let Some(record) = record {
            let erased = PosterRecord {
                address: None,
                ..record
            };
            posters.insert((slug.as_str(), *no), encode(&erased).as_slice())?;
        }
    }
    let reports = super::reports::erase(txn, cutoff, ERASE_CHUNK - due.len())?;
    Ok(Ok(Written::Erased {
        count: due.len() + reports,
    }))
}

/// The cloak a record made on `from` takes on board `to`: computed again from the address
/// while it is kept; once erased, the old cloak stays, with the board it was made on
/// (`None` again if the post returns there).
pub(super) fn recloak(
    keys: &Keys,
    from: &str,
    to: &str,
    address: Option<std::net::IpAddr>,
    cloak: &str,
    cloak_board: Option<String>,
) -> (String, Option<String>) {
    match address {
        Some(address) => (keys.cloak(to, address), None),
        None => {
            let made_on = cloak_board.unwrap_or_else(|| from.to_owned());
            (cloak.to_owned(), (made_on != to).then_some(made_on))
        }
    }
}

/// Moves post `no`'s record from `from` to `(to, new)` with its index rows, in the thread
/// move's transaction, so staff tools find the poster under the post's new number.
pub(super) fn relocate(
    txn: &WriteTransaction,
    keys: &Keys,
    (from, old): (&str, u64),
    (to, new): (&str, u64),
) -> Result<(), redb::Error> {
    let record = txn
        .open_table(POSTERS)?
        .remove((from, old))?
        .map(|v| stored::<PosterRecord>(v.value()))
        .transpose()?;
    let Some(record) = record else {
        return Ok(());
    };
    txn.open_table(POSTER_CLOAKS)?
        .remove((from, record.cloak.as_str(), old))?;
    let (cloak, cloak_board) = recloak(
        keys,
        from,
        to,
        record.address,
        &record.cloak,
        record.cloak_board,
    );
    if record.address.is_some() {
        let mut age = txn.open_table(ADDRESS_AGE)?;
        age.remove((record.at, from, old))?;
        age.insert((record.at, to, new), ())?;
    }
    txn.open_table(POSTER_CLOAKS)?
        .insert((to, cloak.as_str(), new), ())?;
    let moved = PosterRecord {
        cloak,
        cloak_board,
        ..record
    };
    txn.open_table(POSTERS)?
        .insert((to, new), encode(&moved).as_slice())?;
    Ok(())
}
