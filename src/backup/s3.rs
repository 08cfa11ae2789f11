//! The bucket: a thin layer over aws-sdk-s3 that speaks in keys and local paths, and turns the
//! SDK's errors into messages (which never hold credentials).

use std::path::Path;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use aws_sdk_s3::Client;
use tokio::io::AsyncWriteExt;

use crate::config::S3Config;

/// Days an object stays under `trash/` before the lifecycle rule expires it.
pub const TRASH_DAYS: i32 = 30;
const TRASH_RULE: &str = "wani-trash-expiry";

/// One bucket and key prefix, with a client for it.
#[derive(Clone)]
pub struct Bucket {
    client: Client,
    bucket: String,
    /// Empty or ending in `/`.
    prefix: String,
}

/// An object's facts from a HEAD request.
pub struct Head {
    pub size: u64,
    /// The `sha256` metadata wani sets on the originals it uploads.
    pub sha256: Option<String>,
}

fn describe(e: impl std::error::Error) -> String {
    DisplayErrorContext(e).to_string()
}

impl Bucket {
    /// Builds the client from the `[s3]` config, falling back to the standard AWS environment
    /// variables for what the file leaves out. Reads `secret_access_key_file` when given.
    pub fn connect(config: &S3Config) -> Result<Bucket, String> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let access_key = config
            .access_key_id
            .clone()
            .or_else(|| env("AWS_ACCESS_KEY_ID"))
            .ok_or("[s3] needs access_key_id (or AWS_ACCESS_KEY_ID in the environment)")?;
        let secret = match (&config.secret_access_key, &config.secret_access_key_file) {
            (Some(secret), _) => secret.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| {
                    format!(
                        "[s3] cannot read secret_access_key_file {}: {e}",
                        path.display()
                    )
                })?
                .trim()
                .to_owned(),
            (None, None) => env("AWS_SECRET_ACCESS_KEY").ok_or(
                "[s3] needs secret_access_key or secret_access_key_file \
                 (or AWS_SECRET_ACCESS_KEY in the environment)",
            )?,
        };
        let region = config
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let credentials = Credentials::new(
            access_key,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "wani-config",
        );
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(credentials)
            .force_path_style(config.path_style)
            // Checksums only where S3 demands them: many S3-compatible services refuse the
            // streaming checksum trailers the SDK would otherwise add to every upload.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = config
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_S3"))
            .or_else(|| env("AWS_ENDPOINT_URL"))
        {
            builder = builder.endpoint_url(endpoint);
        }
        let mut prefix = config.prefix.clone();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Bucket {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            prefix,
        })
    }

    /// Where the bucket is, for messages: `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    pub fn key(&self, relative: &str) -> String {
        format!("{}{relative}", self.prefix)
    }

    /// Uploads a local file to `relative`, streaming it from disk.
    pub async fn put_file(
        &self,
        relative: &str,
        path: &Path,
        content_type: &str,
        sha256: Option<&str>,
    ) -> Result<(), String> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(relative))
            .content_type(content_type)
            .body(body);
        if let Some(sha256) = sha256 {
            put = put.metadata("sha256", sha256);
        }
        put.send()
            .await
            .map_err(|e| format!("uploading {relative}: {}", describe(e)))?;
        Ok(())
    }

    pub async fn put_bytes(&self, relative: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(relative))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| format!("uploading {relative}: {}", describe(e)))?;
        Ok(())
    }

    /// The object at `relative`, ready to stream; `Ok(None)` when it does not exist.
    async fn get(&self, relative: &str) -> Result<Option<ByteStream>, String> {
        let answer = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(relative))
            .send()
            .await;
        match answer {
            Ok(object) => Ok(Some(object.body)),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(format!("downloading {relative}: {}", describe(e))),
        }
    }

    /// Downloads `relative` into `path` through a temporary file in `tmp_dir` (on the same file
    /// system), so `path` is either whole or absent. `Ok(None)` when the object does not exist.
    pub async fn get_to_file(
        &self,
        relative: &str,
        path: &Path,
        tmp_dir: &Path,
    ) -> Result<Option<u64>, String> {
        let Some(body) = self.get(relative).await? else {
            return Ok(None);
        };
        let dir = path.parent().ok_or("a download needs a directory")?;
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let partial = tempfile::Builder::new()
            .prefix("download-")
            .tempfile_in(tmp_dir)
            .map_err(|e| format!("creating a file in {}: {e}", tmp_dir.display()))?
            .into_temp_path();
        let written = async {
            let mut file = tokio::fs::File::create(&partial).await?;
            let n = tokio::io::copy(&mut body.into_async_read(), &mut file).await?;
            file.flush().await?;
            file.sync_all().await?;
            Ok::<u64, std::io::Error>(n)
        }
        .await;
        let n = written.map_err(|e| format!("downloading {relative}: {e}"))?;
        partial
            .persist(path)
            .map_err(|e| format!("moving {relative} to {}: {e}", path.display()))?;
        Ok(Some(n))
    }

    pub async fn get_bytes(&self, relative: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(body) = self.get(relative).await? else {
            return Ok(None);
        };
        let bytes = body
            .collect()
            .await
            .map_err(|e| format!("downloading {relative}: {e}"))?;
        Ok(Some(bytes.to_vec()))
    }

    /// `Ok(None)` when the object does not exist.
    pub async fn head(&self, relative: &str) -> Result<Option<Head>, String> {
        let answer = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.key(relative))
            .send()
            .await;
        match answer {
            Ok(head) => Ok(Some(Head {
                size: head.content_length().unwrap_or(0).max(0) as u64,
                sha256: head.metadata().and_then(|m| m.get("sha256").cloned()),
            })),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(format!("checking {relative}: {}", describe(e))),
        }
    }

    /// Moves `relative` to `trash/relative`. `Ok(false)` when there was nothing to move.
    pub async fn trash(&self, relative: &str) -> Result<bool, String> {
        let source = format!("{}/{}", self.bucket, self.key(relative));
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(percent_encode(&source))
            .key(self.key(&format!("trash/{relative}")))
            .send()
            .await;
        match copied {
            Ok(_) => {}
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(false),
            Err(e) => return Err(format!("moving {relative} to trash/: {}", describe(e))),
        }
        self.delete(relative).await?;
        Ok(true)
    }

    pub async fn delete(&self, relative: &str) -> Result<(), String> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key(relative))
            .send()
            .await
            .map_err(|e| format!("deleting {relative}: {}", describe(e)))?;
        Ok(())
    }

    /// Every key under `relative`, relative to the prefix, in key order.
    pub async fn list(&self, relative: &str) -> Result<Vec<String>, String> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.key(relative))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("listing {relative}: {}", describe(e)))?;
            for object in page.contents() {
                if let Some(key) = object.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    keys.push(key.to_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Makes sure the bucket expires `trash/` after [`TRASH_DAYS`], keeping any rules the
    /// admin set. `Ok(false)` when the rule was already there.
    pub async fn ensure_trash_expiry(&self) -> Result<bool, String> {
        let existing = self
            .client
            .get_bucket_lifecycle_configuration()
            .bucket(&self.bucket)
            .send()
            .await;
        let mut rules = match existing {
            Ok(config) => config.rules().to_vec(),
            Err(e) if e.code() == Some("NoSuchLifecycleConfiguration") => Vec::new(),
            Err(e) => return Err(format!("reading the lifecycle rules: {}", describe(e))),
        };
        if rules.iter().any(|r| r.id() == Some(TRASH_RULE)) {
            return Ok(false);
        }
        let rule = LifecycleRule::builder()
            .id(TRASH_RULE)
            .filter(
                LifecycleRuleFilter::builder()
                    .prefix(self.key("trash/"))
                    .build(),
            )
            .expiration(LifecycleExpiration::builder().days(TRASH_DAYS).build())
            .status(ExpirationStatus::Enabled)
            .build()
            .map_err(|e| e.to_string())?;
        rules.push(rule);
        let config = BucketLifecycleConfiguration::builder()
            .set_rules(Some(rules))
            .build()
            .map_err(|e| e.to_string())?;
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(&self.bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .map_err(|e| format!("setting the lifecycle rule: {}", describe(e)))?;
        Ok(true)
    }
}

/// `x-amz-copy-source` is a URL path: everything but unreserved characters and `/` is escaped.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_sources_are_escaped() {
        assert_eq!(
            super::percent_encode("bkt/p x/files/ab.jpg"),
            "bkt/p%20x/files/ab.jpg"
        );
        assert_eq!(super::percent_encode("b/ü"), "b/%C3%BC");
    }
}
