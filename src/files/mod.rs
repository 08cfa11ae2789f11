//! Stored files on disk: content-addressed originals and thumbnails, the temp area uploads
//! stream into, and the guard that removes what a failed post placed.
//!
//! ```text
//! <data_dir>/files/ab/cd/<sha256>.<ext>    originals, metadata stripped (jpg png gif webp webm mp4)
//! <data_dir>/thumbs/ab/cd/<sha256>.webp    thumbnails
//! <data_dir>/tmp/                          uploads in flight; emptied at start
//! ```
//!
//! `ab` and `cd` are the first two and next two hex digits of the original's SHA-256, so no
//! directory holds more than 256 entries until there are millions of files. The same bytes are
//! stored once; the `files` table counts the posts carrying them.
//!
//! Files are placed before the post that carries them is committed (the post must never name a
//! missing file). A [`Placement`] undoes that unless the commit succeeded: when the last upload in
//! flight holding a hash lets go and no committed post references the hash, its files go.

pub mod serve;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tempfile::{NamedTempFile, TempPath};

use crate::notify::{notify, Severity};
use crate::storage::Store;

/// Which of the two trees a file lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Originals,
    Thumbs,
}

impl Tree {
    /// The directory under the data directory, which is also the first URL segment.
    pub fn dir(self) -> &'static str {
        match self {
            Tree::Originals => "files",
            Tree::Thumbs => "thumbs",
        }
    }

    /// The extensions a file in this tree may have.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Tree::Originals => &["jpg", "png", "gif", "webp", "webm", "mp4"],
            Tree::Thumbs => &["webp"],
        }
    }
}

/// The path of a stored file relative to the data directory, which is also its URL path.
pub fn relative(tree: Tree, sha256: &str, ext: &str) -> String {
    format!(
        "{}/{}/{}/{sha256}.{ext}",
        tree.dir(),
        &sha256[..2],
        &sha256[2..4]
    )
}

pub fn url(tree: Tree, sha256: &str, ext: &str) -> String {
    format!("/{}", relative(tree, sha256, ext))
}

/// Makes a stored file at `relative` under `root` readable by everyone, and its directories
/// (`files/`, `ab/`, `cd/`) searchable, whatever the umask and the temporary file's 0600 were:
/// nginx serves these public files straight from disk as another user, while the service's
/// umask keeps the database and everything else in the data directory private.
pub fn make_public(root: &Path, relative: &str) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut path = root.to_owned();
    let parts: Vec<&str> = relative.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let mode = if i + 1 == parts.len() { 0o644 } else { 0o755 };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Whether `s` is a SHA-256 as the server writes it: 64 lowercase hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The stored files and the uploads in flight.
pub struct FileStore {
    root: PathBuf,
    store: Store,
    /// Uploads in flight per hash. A hash with a claim is never removed: another upload may be
    /// about to commit a post that references it.
    claims: Mutex<HashMap<String, usize>>,
}

impl FileStore {
    /// Creates the trees when missing and empties `tmp/` (whatever is there belonged to uploads
    /// that a previous process did not finish).
    pub fn open(data_dir: &Path, store: Store) -> io::Result<FileStore> {
        for tree in [Tree::Originals, Tree::Thumbs] {
            fs::create_dir_all(data_dir.join(tree.dir()))?;
            make_public(data_dir, tree.dir())?;
        }
        let tmp = data_dir.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        fs::create_dir_all(&tmp)?;
        Ok(FileStore {
            root: data_dir.to_owned(),
            store,
            claims: Mutex::new(HashMap::new()),
        })
    }

    /// Where uploads stream to while they are read and checked.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn path(&self, tree: Tree, sha256: &str, ext: &str) -> PathBuf {
        self.root.join(relative(tree, sha256, ext))
    }

    /// Claims `sha256` and moves the original and the thumbnail into place, unless the same
    /// bytes are already stored. Both are flushed to disk first, so a committed post never
    /// names a file that a crash could lose. Blocking.
    pub fn place(
        self: &Arc<Self>,
        sha256: &str,
        original: (TempPath, &str),
        thumbnail: (&[u8], &str),
    ) -> io::Result<Claim> {
        *self
            .claims
            .lock()
            .unwrap()
            .entry(sha256.to_owned())
            .or_insert(0) += 1;
        let claim = Claim {
            files: self.clone(),
            sha256: sha256.to_owned(),
            ext: original.1.to_owned(),
            thumb_ext: thumbnail.1.to_owned(),
            committed: false,
        };
        let (temp, ext) = original;
        fs::File::open(&temp)?.sync_all()?;
        self.put(Tree::Originals, sha256, ext, |target| {
            temp.persist_noclobber(target).map_err(|e| e.error)
        })?;
        let (bytes, thumb_ext) = thumbnail;
        self.put(Tree::Thumbs, sha256, thumb_ext, |target| {
            let mut temp = NamedTempFile::new_in(self.tmp_dir())?;
            temp.write_all(bytes)?;
            temp.as_file().sync_all()?;
            temp.persist_noclobber(target)
                .map(drop)
                .map_err(|e| e.error)
        })?;
        Ok(claim)
    }

    /// Moves a file to `target` with `persist` unless it exists, then syncs its directory so
    /// the new name survives a crash.
    fn put(
        &self,
        tree: Tree,
        sha256: &str,
        ext: &str,
        persist: impl FnOnce(&Path) -> io::Result<()>,
    ) -> io::Result<()> {
        let target = self.path(tree, sha256, ext);
        if target.exists() {
            return Ok(());
        }
        let dir = target.parent().expect("stored paths have a directory");
        fs::create_dir_all(dir)?;
        match persist(&target) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            other => other?,
        }
        make_public(&self.root, &relative(tree, sha256, ext))?;
        fs::File::open(dir)?.sync_all()
    }

    /// Removes stored files no committed post references: what a crash between placing a file
    /// and committing its post left behind. Safe while uploads run: a hash that is claimed is
    /// skipped, and the check and removal happen under the claims lock, as in [`Self::release`].
    /// Blocking; returns how many files went.
    pub fn sweep_orphans(&self) -> io::Result<usize> {
        let mut removed = 0;
        for tree in [Tree::Originals, Tree::Thumbs] {
            for shard1 in fs::read_dir(self.root.join(tree.dir()))? {
                for shard2 in fs::read_dir(shard1?.path())? {
                    for entry in fs::read_dir(shard2?.path())? {
                        let path = entry?.path();
                        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        let sha256 = name.split('.').next().unwrap_or("");
                        let claims = self.claims.lock().unwrap();
                        if claims.contains_key(sha256) {
                            continue;
                        }
                        let stored = self.store.read().and_then(|r| r.file(sha256));
                        if matches!(stored, Ok(None)) {
                            fs::remove_file(&path)?;
                            removed += 1;
                        }
                        drop(claims);
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Lets go of one claim; removes the files when nobody else holds the hash and no committed
    /// post references it.
    fn release(&self, sha256: &str, ext: &str, thumb_ext: &str, committed: bool) {
        let mut claims = self.claims.lock().unwrap();
        let Some(count) = claims.get_mut(sha256) else {
            return;
        };
        *count -= 1;
        if *count > 0 {
            return;
        }
        claims.remove(sha256);
        if !committed {
            // Still under the lock: a new upload of these bytes waits until the removal is
            // done, then places them afresh.
            self.remove_if_unreferenced(sha256, ext, thumb_ext);
        }
    }

    /// After a commit left no post carrying a file: removes it unless an upload in flight holds
    /// the hash (that upload then commits a post carrying it, or removes it when it fails).
    pub fn unreferenced(&self, sha256: &str, ext: &str, thumb_ext: &str) {
        let claims = self.claims.lock().unwrap();
        if !claims.contains_key(sha256) {
            self.remove_if_unreferenced(sha256, ext, thumb_ext);
        }
    }

    /// Call with the claims lock held.
    fn remove_if_unreferenced(&self, sha256: &str, ext: &str, thumb_ext: &str) {
        let referenced = self
            .store
            .read()
            .and_then(|r| r.file(sha256))
            .map(|row| row.is_some());
        match referenced {
            Ok(true) => {}
            Ok(false) => {
                for (tree, ext) in [(Tree::Originals, ext), (Tree::Thumbs, thumb_ext)] {
                    let path = self.path(tree, sha256, ext);
                    if let Err(e) = fs::remove_file(&path) {
                        if e.kind() != io::ErrorKind::NotFound {
                            notify(
                                Severity::Warning,
                                "file_cleanup_failed",
                                format_args!("{}: {e}", path.display()),
                            );
                        }
                    }
                }
            }
            // Not knowing, keep the files: an orphan costs disk (the start-up sweep takes it),
            // a missing file breaks a post.
            Err(_) => {}
        }
    }
}

/// One upload's hold on a stored hash. Dropped before the post carrying it is committed, it
/// removes the files unless someone else holds or references them (on a blocking thread).
pub struct Claim {
    files: Arc<FileStore>,
    sha256: String,
    ext: String,
    thumb_ext: String,
    committed: bool,
}

impl Claim {
    /// Lets go now, on this thread. Blocking.
    fn finish(mut self) {
        let sha256 = std::mem::take(&mut self.sha256);
        self.files
            .release(&sha256, &self.ext, &self.thumb_ext, self.committed);
    }
}

impl Drop for Claim {
    /// The path of last resort (a panic, a cancelled task): release on a blocking thread.
    fn drop(&mut self) {
        if self.sha256.is_empty() {
            return;
        }
        let files = self.files.clone();
        let (sha256, ext, thumb_ext) = (
            std::mem::take(&mut self.sha256),
            std::mem::take(&mut self.ext),
            std::mem::take(&mut self.thumb_ext),
        );
        let committed = self.committed;
        let release = move || files.release(&sha256, &ext, &thumb_ext, committed);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(release)),
            Err(_) => release(),
        }
    }
}

/// The files one post placed: kept by [`Placement::commit`] once the post is committed,
/// removed by [`Placement::discard`] (where nothing else needs them) when it is refused.
#[derive(Default)]
pub struct Placement {
    claims: Vec<Claim>,
}

impl Placement {
    pub fn add(&mut self, claim: Claim) {
        self.claims.push(claim);
    }

    /// The post carrying these files is committed: they stay.
    pub fn commit(mut self) {
        for claim in &mut self.claims {
            claim.committed = true;
        }
    }

    /// The post was refused: removes its files before the refusal is answered, so a client
    /// that sees the error also sees them gone.
    pub async fn discard(self) {
        if self.claims.is_empty() {
            return;
        }
        let claims = self.claims;
        let _ =
            tokio::task::spawn_blocking(move || claims.into_iter().for_each(Claim::finish)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_sharded_by_hash() {
        let sha = "abcdef".to_owned() + &"0".repeat(58);
        assert_eq!(
            relative(Tree::Originals, &sha, "jpg"),
            format!("files/ab/cd/{sha}.jpg")
        );
        assert_eq!(
            url(Tree::Thumbs, &sha, "webp"),
            format!("/thumbs/ab/cd/{sha}.webp")
        );
        assert!(is_sha256(&sha));
        assert!(!is_sha256(&sha.to_uppercase()));
        assert!(!is_sha256(&sha[1..]));
    }

    fn temp_with(files: &FileStore, bytes: &[u8]) -> TempPath {
        let mut temp = NamedTempFile::new_in(files.tmp_dir()).unwrap();
        temp.write_all(bytes).unwrap();
        temp.into_temp_path()
    }

    #[test]
    fn an_uncommitted_placement_is_removed_unless_another_upload_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let files = Arc::new(FileStore::open(dir.path(), store).unwrap());
        let sha = "ab".repeat(32);
        let original = files.path(Tree::Originals, &sha, "png");

        let mut first = Placement::default();
        first.add(
            files
                .place(&sha, (temp_with(&files, b"one"), "png"), (b"t", "webp"))
                .unwrap(),
        );
        let mut second = Placement::default();
        second.add(
            files
                .place(&sha, (temp_with(&files, b"one"), "png"), (b"t", "webp"))
                .unwrap(),
        );
        assert!(original.exists());
        drop(first);
        assert!(original.exists(), "the second upload still holds the hash");
        drop(second);
        assert!(
            !original.exists(),
            "nobody holds it and no post references it"
        );
        assert!(!files.path(Tree::Thumbs, &sha, "webp").exists());
        assert_eq!(fs::read_dir(files.tmp_dir()).unwrap().count(), 0);
    }

    /// nginx serves these as another user: the 0600 of the temporary file must not survive, and
    /// the database beside them keeps the mode it was created with.
    #[test]
    fn placed_files_are_public_and_their_directories_searchable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let files = Arc::new(FileStore::open(dir.path(), store).unwrap());
        let sha = "cd".repeat(32);
        let mut placement = Placement::default();
        placement.add(
            files
                .place(&sha, (temp_with(&files, b"two"), "gif"), (b"t", "webp"))
                .unwrap(),
        );
        let mode = |p: PathBuf| fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        let cases = [
            (files.path(Tree::Originals, &sha, "gif"), 0o644),
            (files.path(Tree::Thumbs, &sha, "webp"), 0o644),
            (dir.path().join("files"), 0o755),
            (dir.path().join("files/cd"), 0o755),
            (dir.path().join("files/cd/cd"), 0o755),
            (dir.path().join("thumbs/cd/cd"), 0o755),
        ];
        for (path, want) in cases {
            assert_eq!(mode(path.clone()), want, "{}", path.display());
        }
    }

    #[test]
    fn orphans_from_a_crash_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let files = Arc::new(FileStore::open(dir.path(), store).unwrap());
        let sha = "ef".repeat(32);
        let claim = files
            .place(&sha, (temp_with(&files, b"three"), "jpg"), (b"t", "webp"))
            .unwrap();
        let held = files.sweep_orphans().unwrap();
        assert_eq!(held, 0, "a claimed hash is never swept");
        // A crash: the claim is never released and no post was committed.
        std::mem::forget(claim);
        files.claims.lock().unwrap().clear();
        assert_eq!(files.sweep_orphans().unwrap(), 2);
        assert!(!files.path(Tree::Originals, &sha, "jpg").exists());
        assert!(!files.path(Tree::Thumbs, &sha, "webp").exists());
    }

    #[test]
    fn a_committed_placement_stays() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let files = Arc::new(FileStore::open(dir.path(), store).unwrap());
        let sha = "cd".repeat(32);
        let mut placement = Placement::default();
        placement.add(
            files
                .place(&sha, (temp_with(&files, b"two"), "gif"), (b"t", "webp"))
                .unwrap(),
        );
        placement.commit();
        assert_eq!(
            fs::read(files.path(Tree::Originals, &sha, "gif")).unwrap(),
            b"two"
        );
    }
}
