//! `wani restore` rebuilds a data directory from the bucket; `wani backup --verify` checks that
//! the bucket could.

use std::io::IsTerminal;
use std::path::Path;

use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};

use super::snapshot::{self, Manifest};
use super::Bucket;
use crate::files::{relative, Tree};
use crate::model::StoredFile;
use crate::poster::SECRET_FILE;
use crate::storage::{Store, DB_FILE};

/// Files fetched or checked at once.
const PARALLEL: usize = 16;

/// Restores snapshot `name` (the newest when `None`) into `data_dir`, which must be empty
/// unless `force`, then downloads every referenced file missing on disk. Prints progress and a
/// summary; the error says what is missing.
pub async fn restore(
    bucket: &Bucket,
    data_dir: &Path,
    name: Option<String>,
    force: bool,
) -> Result<(), String> {
    refuse_to_clobber(data_dir, force)?;
    let names = snapshot::list(bucket).await?;
    let name = match name {
        Some(name) => name,
        None => names
            .last()
            .cloned()
            .ok_or_else(|| format!("there is no snapshot in {}", bucket.describe()))?,
    };
    let manifest = snapshot::manifest(bucket, &name).await?;
    println!(
        "restoring snapshot {name}: {} posts, {} files, {} bytes",
        manifest.counts.get("posts").copied().unwrap_or(0),
        manifest.counts.get("files").copied().unwrap_or(0),
        manifest.bytes
    );
    let tmp = data_dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    fetch_database(bucket, &manifest, &tmp, &data_dir.join(DB_FILE)).await?;
    println!("checksum verified: {}", manifest.sha256);

    match bucket
        .get_to_file(SECRET_FILE, &data_dir.join(SECRET_FILE), &tmp)
        .await?
    {
        Some(_) => println!("restored {SECRET_FILE}"),
        None => println!(
            "warning: the bucket holds no {SECRET_FILE}; a new one will be made, so \
             tripcodes, poster ids and deletion passwords of old posts will not match"
        ),
    }

    let store = Store::open(data_dir).map_err(|e| e.to_string())?;
    check_counts(&store, &manifest)?;
    let files = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.read().and_then(|r| r.stored_files()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.message)?
    };
    let fetched = fetch_files(bucket, data_dir, &tmp, &files).await;
    println!(
        "restored {name}: database ({} tables checked), {} files fetched ({} bytes), {} already on disk",
        manifest.counts.len(),
        fetched.fetched,
        fetched.bytes,
        fetched.present
    );
    if fetched.missing.is_empty() {
        Ok(())
    } else {
        for key in &fetched.missing {
            println!("missing in the bucket: {key}");
        }
        Err(format!(
            "{} objects the database references are not in the bucket",
            fetched.missing.len()
        ))
    }
}

/// A data directory holding anything is left alone without `force`; a running server's is
/// never touched (its database is locked).
fn refuse_to_clobber(data_dir: &Path, force: bool) -> Result<(), String> {
    let holds_something = std::fs::read_dir(data_dir)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if holds_something && !force {
        return Err(format!(
            "data directory {} is not empty; restore into an empty one, or pass --force to \
             replace its database (files already there are kept)",
            data_dir.display()
        ));
    }
    if data_dir.join(DB_FILE).exists() {
        // Fails while a server holds the database.
        drop(Store::open(data_dir).map_err(|e| e.to_string())?);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("creating {}: {e}", data_dir.display()))
}

/// Downloads and unpacks a snapshot into `target`, checking it against its manifest.
async fn fetch_database(
    bucket: &Bucket,
    manifest: &Manifest,
    tmp: &Path,
    target: &Path,
) -> Result<(), String> {
    let packed = tmp.join(format!("restore-{}.redb.zst", manifest.name));
    let raw = tmp.join(format!("restore-{}.redb", manifest.name));
    let key = Manifest::data_key(&manifest.name);
    bucket
        .get_to_file(&key, &packed, tmp)
        .await?
        .ok_or_else(|| format!("{key} is missing from the bucket"))?;
    let unpacked = {
        let (packed, raw) = (packed.clone(), raw.clone());
        tokio::task::spawn_blocking(move || snapshot::decompress(&packed, &raw))
            .await
            .map_err(|e| e.to_string())?
    };
    let _ = std::fs::remove_file(&packed);
    let (sha256, bytes) = unpacked?;
    if sha256 != manifest.sha256 || bytes != manifest.bytes {
        let _ = std::fs::remove_file(&raw);
        return Err(format!(
            "snapshot {} is damaged: its checksum is {sha256} ({bytes} bytes), the manifest says {} ({} bytes)",
            manifest.name, manifest.sha256, manifest.bytes
        ));
    }
    std::fs::rename(&raw, target).map_err(|e| format!("moving the database into place: {e}"))
}

/// The restored database must hold what the manifest counted.
fn check_counts(store: &Store, manifest: &Manifest) -> Result<(), String> {
    let counts = store.counts()?;
    let differ: Vec<String> = manifest
        .counts
        .iter()
        .filter(|(table, n)| counts.get(*table) != Some(n))
        .map(|(table, n)| {
            format!(
                "{table}: {} rows, manifest says {n}",
                counts.get(table).copied().unwrap_or(0)
            )
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the restored database differs from its manifest: {}",
            differ.join("; ")
        ))
    }
}

#[derive(Default)]
struct Fetched {
    fetched: u64,
    bytes: u64,
    present: u64,
    missing: Vec<String>,
}

/// Every original and thumbnail of `files`, as keys relative to the prefix.
fn objects(files: &[StoredFile]) -> Vec<(Tree, String, StoredFile)> {
    files
        .iter()
        .flat_map(|f| {
            [(Tree::Originals, &f.ext), (Tree::Thumbs, &f.thumb_ext)]
                .map(|(tree, ext)| (tree, relative(tree, &f.sha256, ext), f.clone()))
        })
        .collect()
}

async fn fetch_files(
    bucket: &Bucket,
    data_dir: &Path,
    tmp: &Path,
    files: &[StoredFile],
) -> Fetched {
    let objects = objects(files);
    let progress = Progress::new(objects.len() as u64, "files", true);
    let results: Vec<(String, Result<Option<u64>, String>, bool)> = stream::iter(objects)
        .map(|(_, key, _)| {
            let progress = &progress;
            async move {
                let path = data_dir.join(&key);
                let present = path.exists();
                let result = if present {
                    Ok(None)
                } else {
                    // Public like the files the server places, for nginx to serve.
                    bucket.get_to_file(&key, &path, tmp).await.and_then(|n| {
                        crate::files::make_public(data_dir, &key)
                            .map(|()| n)
                            .map_err(|e| format!("making {key} readable: {e}"))
                    })
                };
                progress.step();
                (key, result, present)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    progress.finish();
    let mut fetched = Fetched::default();
    for (key, result, present) in results {
        match result {
            _ if present => fetched.present += 1,
            Ok(Some(n)) => {
                fetched.fetched += 1;
                fetched.bytes += n;
            }
            Ok(None) => fetched.missing.push(key),
            Err(e) => fetched.missing.push(format!("{key} ({e})")),
        }
    }
    fetched.missing.sort();
    fetched
}

/// A bar on a terminal, a line per tenth otherwise (logs and pipes stay readable).
struct Progress {
    bar: Option<ProgressBar>,
    show: bool,
    total: u64,
    what: &'static str,
    done: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// `show`: print progress at all (not when a server runs the work for a client).
    fn new(total: u64, what: &'static str, show: bool) -> Progress {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({eta} left)")
                    .expect("a valid template"),
            );
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            show,
            total,
            what,
            done: 0.into(),
        }
    }

    fn step(&self) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if self.show => {
                let tenth = (self.total / 10).max(1);
                if done.is_multiple_of(tenth) || done == self.total {
                    eprintln!("{} {done}/{}", self.what, self.total);
                }
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// What `verify` found; `problems` empty means the bucket can rebuild this server.
pub struct Report {
    pub lines: Vec<String>,
    pub problems: Vec<String>,
}

/// Checks that every file `store` references is in the bucket with the right size and hash,
/// and that the newest snapshot restores to the counts its manifest gives.
pub async fn verify(
    store: &Store,
    bucket: &Bucket,
    tmp: &Path,
    show_progress: bool,
) -> Result<Report, String> {
    let files = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.read().and_then(|r| r.stored_files()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.message)?
    };
    let objects = objects(&files);
    let checked = objects.len();
    let progress = Progress::new(checked as u64, "objects checked", show_progress);
    let mut problems: Vec<String> = stream::iter(objects)
        .map(|(tree, key, file)| {
            let progress = &progress;
            async move {
                let head = bucket.head(&key).await;
                progress.step();
                match head {
                    Err(e) => Some(e),
                    Ok(None) => Some(format!("missing: {key}")),
                    Ok(Some(head)) if tree == Tree::Originals && head.size != file.size => {
                        Some(format!(
                            "wrong size: {key} is {} bytes, not {}",
                            head.size, file.size
                        ))
                    }
                    Ok(Some(head))
                        if tree == Tree::Originals
                            && head.sha256.as_deref() != Some(file.sha256.as_str()) =>
                    {
                        Some(format!("wrong hash: {key}"))
                    }
                    Ok(Some(_)) => None,
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .filter_map(|p| async move { p })
        .collect()
        .await;
    progress.finish();
    problems.sort();
    let mut lines = vec![format!(
        "{checked} objects of {} files checked, {} problems",
        files.len(),
        problems.len()
    )];

    match snapshot::list(bucket).await?.last() {
        None => problems.push(format!("no snapshot in {}", bucket.describe())),
        Some(name) => {
            let manifest = snapshot::manifest(bucket, name).await?;
            let scratch = tempfile::Builder::new()
                .prefix("verify-")
                .tempdir_in(tmp)
                .map_err(|e| format!("creating a directory in {}: {e}", tmp.display()))?;
            let checked = async {
                fetch_database(
                    bucket,
                    &manifest,
                    scratch.path(),
                    &scratch.path().join(DB_FILE),
                )
                .await?;
                let copy = Store::open(scratch.path()).map_err(|e| e.to_string())?;
                check_counts(&copy, &manifest)
            }
            .await;
            match checked {
                Ok(()) => lines.push(format!(
                    "snapshot {name} restores to the counts of its manifest ({} posts)",
                    manifest.counts.get("posts").copied().unwrap_or(0)
                )),
                Err(e) => problems.push(format!("snapshot {name}: {e}")),
            }
        }
    }
    Ok(Report { lines, problems })
}
