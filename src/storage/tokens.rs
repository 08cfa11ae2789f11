//! Reads of API tokens.

use super::{decode, storage_error, Reader, TOKENS, USER_TOKENS};
use crate::auth::token::StoredToken;
use crate::error::ApiResult;

impl Reader {
    /// A token by its storage key, expired or not.
    pub fn token(&self, key: &[u8; 32]) -> ApiResult<Option<StoredToken>> {
        let table = self.txn.open_table(TOKENS).map_err(storage_error)?;
        let row = table.get(key.as_slice()).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// A user's tokens in id order. A user holds at most
    /// [`crate::storage::writer::MAX_TOKENS`], so they are read at once.
    pub fn tokens_of(&self, username: &str) -> ApiResult<Vec<StoredToken>> {
        let index = self.txn.open_table(USER_TOKENS).map_err(storage_error)?;
        let tokens = self.txn.open_table(TOKENS).map_err(storage_error)?;
        let mut out = Vec::new();
        let range = index
            .range::<(&str, &str)>((username, "")..)
            .map_err(storage_error)?;
        for row in range {
            let (key, value) = row.map_err(storage_error)?;
            if key.value().0 != username {
                break;
            }
            if let Some(token) = tokens.get(value.value()).map_err(storage_error)? {
                out.push(decode(token.value())?);
            }
        }
        Ok(out)
    }
}
