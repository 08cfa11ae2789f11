//! The one error type of the API, and its mapping to HTTP status, stable code and JSON body.

use std::fmt::Display;

use hyper::StatusCode;

use crate::notify::{notify, Severity};

/// Every way a request can fail. Each kind has one HTTP status and one stable snake_case code
/// that clients may match on; the message is for people and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    RouteNotFound,
    MethodNotAllowed,
    BoardNotFound,
    ThreadNotFound,
    PostNotFound,
    PageNotFound,
    InvalidPath,
    InvalidQuery,
    InvalidJson,
    InvalidUtf8,
    UnsupportedMediaType,
    PayloadTooLarge,
    RequestTimeout,
    MissingField,
    UnknownField,
    InvalidType,
    TooLong,
    Empty,
    ControlCharacters,
    ThreadLocked,
    ThreadArchived,
    FileNotFound,
    InvalidMultipart,
    TooManyFiles,
    FileRequired,
    FileTooLarge,
    NotAnImage,
    UnsupportedImageType,
    VideoNotSupported,
    FileTypeNotAllowed,
    ImageTruncated,
    ImageCorrupt,
    ImageTooLarge,
    PostDeleted,
    ThreadDeleted,
    WrongPassword,
    DeleteWindowClosed,
    NoFiles,
    DuplicateField,
    TripcodeLookalike,
    InvalidHost,
    RateLimited,
    TooManyConnections,
    Internal,
    UnsupportedTransferCoding,
    Unavailable,
    Busy,
    NotLoggedIn,
    Forbidden,
    CsrfFailed,
    SignupClosed,
    UsernameTaken,
    LoginFailed,
    WeakPassword,
    InvalidUsername,
    TooManyAttempts,
    UserNotFound,
    AccountDisabled,
    CapcodeNotAllowed,
    TotpRequired,
    TotpFailed,
    TotpConflict,
    TotpEnrolmentRequired,
    ResetTokenInvalid,
    OutOfRange,
    InvalidValue,
    BoardExists,
    TokenInvalid,
    BadAuthorization,
    ScopeTooWide,
    Cooldown,
    DuplicateText,
    TooManyThreads,
    DnsblListed,
    AlreadyReported,
    ReportNotFound,
    PosterUnknown,
    ThreadMoved,
    InvalidEmail,
    EmailTaken,
    CaptchaRequired,
    CaptchaFailed,
    FileBanned,
    PostFiltered,
    FileBanNotFound,
    FilterNotFound,
    InvalidPattern,
    Banned,
    BanNotFound,
    AppealExists,
    AppealNotOpen,
}

impl ErrorKind {
    /// Every kind, in declaration order: for what must list them all (the OpenAPI document's
    /// `Error` schema, tests).
    pub const ALL: &'static [ErrorKind] = &[
        ErrorKind::RouteNotFound,
        ErrorKind::MethodNotAllowed,
        ErrorKind::BoardNotFound,
        ErrorKind::ThreadNotFound,
        ErrorKind::PostNotFound,
        ErrorKind::PageNotFound,
        ErrorKind::InvalidPath,
        ErrorKind::InvalidQuery,
        ErrorKind::InvalidJson,
        ErrorKind::InvalidUtf8,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::PayloadTooLarge,
        ErrorKind::RequestTimeout,
        ErrorKind::MissingField,
        ErrorKind::UnknownField,
        ErrorKind::InvalidType,
        ErrorKind::TooLong,
        ErrorKind::Empty,
        ErrorKind::ControlCharacters,
        ErrorKind::ThreadLocked,
        ErrorKind::ThreadArchived,
        ErrorKind::FileNotFound,
        ErrorKind::InvalidMultipart,
        ErrorKind::TooManyFiles,
        ErrorKind::FileRequired,
        ErrorKind::FileTooLarge,
        ErrorKind::NotAnImage,
        ErrorKind::UnsupportedImageType,
        ErrorKind::VideoNotSupported,
        ErrorKind::FileTypeNotAllowed,
        ErrorKind::ImageTruncated,
        ErrorKind::ImageCorrupt,
        ErrorKind::ImageTooLarge,
        ErrorKind::PostDeleted,
        ErrorKind::ThreadDeleted,
        ErrorKind::WrongPassword,
        ErrorKind::DeleteWindowClosed,
        ErrorKind::NoFiles,
        ErrorKind::DuplicateField,
        ErrorKind::TripcodeLookalike,
        ErrorKind::InvalidHost,
        ErrorKind::RateLimited,
        ErrorKind::TooManyConnections,
        ErrorKind::Internal,
        ErrorKind::UnsupportedTransferCoding,
        ErrorKind::Unavailable,
        ErrorKind::Busy,
        ErrorKind::NotLoggedIn,
        ErrorKind::Forbidden,
        ErrorKind::CsrfFailed,
        ErrorKind::SignupClosed,
        ErrorKind::UsernameTaken,
        ErrorKind::LoginFailed,
        ErrorKind::WeakPassword,
        ErrorKind::InvalidUsername,
        ErrorKind::TooManyAttempts,
        ErrorKind::UserNotFound,
        ErrorKind::AccountDisabled,
        ErrorKind::CapcodeNotAllowed,
        ErrorKind::TotpRequired,
        ErrorKind::TotpFailed,
        ErrorKind::TotpConflict,
        ErrorKind::TotpEnrolmentRequired,
        ErrorKind::ResetTokenInvalid,
        ErrorKind::OutOfRange,
        ErrorKind::InvalidValue,
        ErrorKind::BoardExists,
        ErrorKind::TokenInvalid,
        ErrorKind::BadAuthorization,
        ErrorKind::ScopeTooWide,
        ErrorKind::Cooldown,
        ErrorKind::DuplicateText,
        ErrorKind::TooManyThreads,
        ErrorKind::DnsblListed,
        ErrorKind::AlreadyReported,
        ErrorKind::ReportNotFound,
        ErrorKind::PosterUnknown,
        ErrorKind::ThreadMoved,
        ErrorKind::InvalidEmail,
        ErrorKind::EmailTaken,
        ErrorKind::CaptchaRequired,
        ErrorKind::CaptchaFailed,
        ErrorKind::FileBanned,
        ErrorKind::PostFiltered,
        ErrorKind::FileBanNotFound,
        ErrorKind::FilterNotFound,
        ErrorKind::InvalidPattern,
        ErrorKind::Banned,
        ErrorKind::BanNotFound,
        ErrorKind::AppealExists,
        ErrorKind::AppealNotOpen,
    ];

    pub fn status(self) -> StatusCode {
        use ErrorKind::*;
        match self {
            RouteNotFound | BoardNotFound | ThreadNotFound | PostNotFound | PageNotFound
            | FileNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            InvalidPath | InvalidQuery | InvalidJson | InvalidUtf8 | MissingField
            | UnknownField | InvalidType | TooLong | Empty | ControlCharacters
            | InvalidMultipart | TooManyFiles | FileRequired | ImageTruncated | ImageCorrupt
            | ImageTooLarge | NoFiles | DuplicateField | TripcodeLookalike | InvalidHost
            | OutOfRange | InvalidValue => StatusCode::BAD_REQUEST,
            PostDeleted | ThreadDeleted => StatusCode::GONE,
            WrongPassword | DeleteWindowClosed => StatusCode::FORBIDDEN,
            UnsupportedMediaType | NotAnImage | UnsupportedImageType | VideoNotSupported
            | FileTypeNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PayloadTooLarge | FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ThreadLocked | ThreadArchived | BoardExists => StatusCode::CONFLICT,
            RateLimited | TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            UnsupportedTransferCoding => StatusCode::NOT_IMPLEMENTED,
            Unavailable | Busy => StatusCode::SERVICE_UNAVAILABLE,
            NotLoggedIn | Forbidden | CsrfFailed | SignupClosed | LoginFailed | AccountDisabled
            | CapcodeNotAllowed => StatusCode::FORBIDDEN,
            TokenInvalid | ScopeTooWide | BadAuthorization => StatusCode::FORBIDDEN,
            InvalidEmail => StatusCode::BAD_REQUEST,
            EmailTaken => StatusCode::CONFLICT,
            CaptchaRequired | CaptchaFailed => StatusCode::FORBIDDEN,
            UsernameTaken => StatusCode::CONFLICT,
            WeakPassword | InvalidUsername => StatusCode::BAD_REQUEST,
            UserNotFound => StatusCode::NOT_FOUND,
            TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            TotpRequired | TotpFailed | TotpEnrolmentRequired | ResetTokenInvalid => {
                StatusCode::FORBIDDEN
            }
            TotpConflict => StatusCode::CONFLICT,
            Cooldown | DuplicateText | TooManyThreads => StatusCode::TOO_MANY_REQUESTS,
            DnsblListed => StatusCode::FORBIDDEN,
            AlreadyReported | PosterUnknown => StatusCode::CONFLICT,
            ReportNotFound => StatusCode::NOT_FOUND,
            ThreadMoved => StatusCode::MOVED_PERMANENTLY,
            FileBanned | PostFiltered => StatusCode::FORBIDDEN,
            FileBanNotFound | FilterNotFound => StatusCode::NOT_FOUND,
            InvalidPattern => StatusCode::BAD_REQUEST,
            Banned => StatusCode::FORBIDDEN,
            BanNotFound => StatusCode::NOT_FOUND,
            AppealExists | AppealNotOpen => StatusCode::CONFLICT,
        }
    }

    pub fn code(self) -> &'static str {
        use ErrorKind::*;
        match self {
            RouteNotFound => "route_not_found",
            MethodNotAllowed => "method_not_allowed",
            BoardNotFound => "board_not_found",
            ThreadNotFound => "thread_not_found",
            PostNotFound => "post_not_found",
            PageNotFound => "page_not_found",
            InvalidPath => "invalid_path",
            InvalidQuery => "invalid_query",
            InvalidJson => "invalid_json",
            InvalidUtf8 => "invalid_utf8",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            RequestTimeout => "request_timeout",
            MissingField => "missing_field",
            UnknownField => "unknown_field",
            InvalidType => "invalid_type",
            TooLong => "too_long",
            Empty => "empty",
            ControlCharacters => "control_characters",
            ThreadLocked => "thread_locked",
            ThreadArchived => "thread_archived",
            FileNotFound => "file_not_found",
            InvalidMultipart => "invalid_multipart",
            TooManyFiles => "too_many_files",
            FileRequired => "file_required",
            FileTooLarge => "file_too_large",
            NotAnImage => "not_an_image",
            UnsupportedImageType => "unsupported_image_type",
            VideoNotSupported => "video_not_supported",
            FileTypeNotAllowed => "file_type_not_allowed",
            ImageTruncated => "image_truncated",
            ImageCorrupt => "image_corrupt",
            ImageTooLarge => "image_too_large",
            PostDeleted => "post_deleted",
            ThreadDeleted => "thread_deleted",
            WrongPassword => "wrong_password",
            DeleteWindowClosed => "delete_window_closed",
            NoFiles => "no_files",
            DuplicateField => "duplicate_field",
            TripcodeLookalike => "tripcode_lookalike",
            InvalidHost => "invalid_host",
            RateLimited => "rate_limited",
            TooManyConnections => "too_many_connections",
            Internal => "internal",
            UnsupportedTransferCoding => "unsupported_transfer_coding",
            Unavailable => "unavailable",
            Busy => "busy",
            NotLoggedIn => "not_logged_in",
            Forbidden => "forbidden",
            CsrfFailed => "csrf_failed",
            SignupClosed => "signup_closed",
            UsernameTaken => "username_taken",
            LoginFailed => "login_failed",
            WeakPassword => "weak_password",
            InvalidUsername => "invalid_username",
            TooManyAttempts => "too_many_attempts",
            UserNotFound => "user_not_found",
            AccountDisabled => "account_disabled",
            CapcodeNotAllowed => "capcode_not_allowed",
            TotpRequired => "totp_required",
            TotpFailed => "totp_failed",
            TotpConflict => "totp_conflict",
            TotpEnrolmentRequired => "totp_enrolment_required",
            ResetTokenInvalid => "reset_token_invalid",
            OutOfRange => "out_of_range",
            InvalidValue => "invalid_value",
            BoardExists => "board_exists",
            TokenInvalid => "token_invalid",
            BadAuthorization => "bad_authorization",
            ScopeTooWide => "scope_too_wide",
            Cooldown => "cooldown",
            DuplicateText => "duplicate_text",
            TooManyThreads => "too_many_threads",
            DnsblListed => "dnsbl_listed",
            AlreadyReported => "already_reported",
            ReportNotFound => "report_not_found",
            PosterUnknown => "poster_unknown",
            ThreadMoved => "thread_moved",
            InvalidEmail => "invalid_email",
            EmailTaken => "email_taken",
            CaptchaRequired => "captcha_required",
            CaptchaFailed => "captcha_failed",
            FileBanned => "file_banned",
            PostFiltered => "post_filtered",
            FileBanNotFound => "file_ban_not_found",
            FilterNotFound => "filter_not_found",
            InvalidPattern => "invalid_pattern",
            Banned => "banned",
            BanNotFound => "ban_not_found",
            AppealExists => "appeal_exists",
            AppealNotOpen => "appeal_not_open",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
    /// Seconds after which trying again may succeed: sent as `Retry-After` with 429 and 503.
    pub retry_after: Option<u64>,
    /// Where the thing asked for lives now: sent as `Location` (with 301 `thread_moved`) and
    /// as `location` in the body.
    pub location: Option<String>,
    /// For `banned`: the ban as its poster sees it, sent as the body's `error.ban`.
    pub ban: Option<Box<serde_json::Value>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            field: None,
            retry_after: None,
            location: None,
            ban: None,
        }
    }

    /// Attaches the ban a `banned` refusal is about.
    pub fn with_ban(mut self, ban: serde_json::Value) -> Self {
        self.ban = Some(Box::new(ban));
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// A 301 `thread_moved`: what was asked for lives at `location` (a path) since staff moved
    /// its thread to `board`, where it is thread `thread`.
    pub fn moved(what: String, board: &str, thread: u64, location: String) -> Self {
        let message = format!("{what} moved to /{board}/ in thread {thread}: see {location}.");
        ApiError {
            location: Some(location),
            ..ApiError::new(ErrorKind::ThreadMoved, message)
        }
    }

    /// A failure on the server's side: the details go to `notify`, the client gets none of them.
    pub fn internal(event: &'static str, detail: impl Display) -> Self {
        notify(Severity::Error, event, detail);
        ApiError::new(
            ErrorKind::Internal,
            "The server failed to handle this request; the failure is logged.",
        )
    }

    pub fn board_not_found(board: &str) -> Self {
        ApiError::new(
            ErrorKind::BoardNotFound,
            format!("There is no board /{board}/."),
        )
    }

    pub fn thread_not_found(board: &str, no: u64) -> Self {
        ApiError::new(
            ErrorKind::ThreadNotFound,
            format!("There is no thread {no} on /{board}/."),
        )
    }

    pub fn post_not_found(board: &str, no: u64) -> Self {
        ApiError::new(
            ErrorKind::PostNotFound,
            format!("There is no post {no} on /{board}/."),
        )
    }

    pub fn post_deleted(board: &str, no: u64) -> Self {
        ApiError::new(
            ErrorKind::PostDeleted,
            format!("Post {no} on /{board}/ was deleted."),
        )
    }

    pub fn thread_deleted(board: &str, no: u64) -> Self {
        ApiError::new(
            ErrorKind::ThreadDeleted,
            format!("Thread {no} on /{board}/ was deleted."),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut body = serde_json::json!({
            "error": { "code": self.kind.code(), "message": self.message, "field": self.field }
        });
        if let Some(location) = &self.location {
            body["error"]["location"] = location.as_str().into();
        }
        if let Some(ban) = &self.ban {
            body["error"]["ban"] = (**ban).clone();
        }
        serde_json::to_vec(&body).expect("serializing a json! value cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let err = ApiError::new(ErrorKind::TooLong, "Too long.").with_field("body");
        let v: serde_json::Value = serde_json::from_slice(&err.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "too_long");
        assert_eq!(v["error"]["field"], "body");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn all_lists_every_kind_in_order() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(
                *kind as usize, i,
                "{kind:?} is not at its declaration position in ALL"
            );
        }
        // Exhaustive: a new kind does not compile until it is sorted here. The order check
        // above catches a kind inserted before the last; this one a kind added at the end.
        let declared_last = |kind: ErrorKind| {
            use ErrorKind::*;
            match kind {
                AppealNotOpen => true,
                CaptchaFailed | ThreadMoved | InvalidEmail | EmailTaken | CaptchaRequired => false,
                PosterUnknown | Cooldown | DuplicateText | TooManyThreads | ScopeTooWide => false,
                ResetTokenInvalid | BoardExists | AlreadyReported | ReportNotFound => false,
                DnsblListed | Banned | BanNotFound | AppealExists => false,
                InvalidPattern | FileBanned | PostFiltered | FileBanNotFound | FilterNotFound => {
                    false
                }
                RouteNotFound
                | MethodNotAllowed
                | BoardNotFound
                | ThreadNotFound
                | PostNotFound
                | PageNotFound
                | InvalidPath
                | InvalidQuery
                | InvalidJson
                | InvalidUtf8
                | UnsupportedMediaType
                | PayloadTooLarge
                | RequestTimeout
                | MissingField
                | UnknownField
                | InvalidType
                | TooLong
                | Empty
                | ControlCharacters
                | ThreadLocked
                | ThreadArchived
                | FileNotFound
                | InvalidMultipart
                | TooManyFiles
                | FileRequired
                | FileTooLarge
                | NotAnImage
                | UnsupportedImageType
                | VideoNotSupported
                | FileTypeNotAllowed
                | ImageTruncated
                | ImageCorrupt
                | ImageTooLarge
                | PostDeleted
                | ThreadDeleted
                | WrongPassword
                | DeleteWindowClosed
                | NoFiles
                | DuplicateField
                | TripcodeLookalike
                | InvalidHost
                | RateLimited
                | TooManyConnections
                | Internal
                | UnsupportedTransferCoding
                | Unavailable
                | Busy
                | NotLoggedIn
                | Forbidden
                | CsrfFailed
                | SignupClosed
                | UsernameTaken
                | LoginFailed
                | WeakPassword
                | InvalidUsername
                | TooManyAttempts
                | UserNotFound
                | AccountDisabled
                | CapcodeNotAllowed
                | TotpRequired
                | TotpFailed
                | TotpConflict
                | TotpEnrolmentRequired => false,
                OutOfRange | InvalidValue => false,
                TokenInvalid | BadAuthorization => false,
            }
        };
        assert!(declared_last(*ErrorKind::ALL.last().unwrap()));
        let codes: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len(), "codes are unique");
    }
}
