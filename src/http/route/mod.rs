//! The route table: every typed [`Route`] the server answers and who may call each; matching a
//! request line to one is [`resolve`]'s.

use crate::files::Tree;
use crate::web::Page;

mod resolve;

pub use resolve::{resolve, Resolved};

/// Every route of the server. Path parameters are parsed once, by [`resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    ListBoards,
    GetBoard {
        board: String,
    },
    CreateThread {
        board: String,
    },
    GetThread {
        board: String,
        thread: u64,
    },
    CreateReply {
        board: String,
        thread: u64,
    },
    GetPost {
        board: String,
        no: u64,
    },
    Catalog {
        board: String,
    },
    Index {
        board: String,
    },
    Archive {
        board: String,
    },
    /// A captcha challenge for posting on the board (`src/api/captcha.rs`).
    Captcha {
        board: String,
    },
    DeletePost {
        board: String,
        no: u64,
    },
    Recent,
    Live,
    /// This API's OpenAPI document.
    OpenApi,
    /// A stored original or thumbnail; the name is checked against the layout here.
    GetFile {
        tree: Tree,
        sha256: String,
        ext: String,
    },
    /// The 4chan-compatible read API (`src/fourchan/`): `/boards.json`, then paths under
    /// `/{board}/` (see [`fourchan`]).
    FourBoards,
    FourThreadList {
        board: String,
    },
    FourCatalog {
        board: String,
    },
    FourArchive {
        board: String,
    },
    /// `/{board}/{page}.json`: page 0, where vichan clients start, is page 1.
    FourIndex {
        board: String,
        page: u64,
    },
    /// `/{board}/thread/{no}.json`, or vichan's `/{board}/res/{no}.json`.
    FourThread {
        board: String,
        thread: u64,
    },
    /// A file by its `tim`: the original (`/{board}/{tim}.{ext}`, vichan's `src/`) or the
    /// thumbnail (`/{board}/{tim}s.jpg`, vichan's `thumb/`).
    FourFile {
        board: String,
        tim: u64,
        ext: String,
        thumb: bool,
    },
    /// The web client's entry page, for one of its paths (`src/web/`).
    WebPage {
        page: Page,
    },
    /// A file of the web client, by its content-hashed name.
    WebAsset {
        name: String,
    },
    /// Accounts (`src/api/auth.rs`).
    Signup,
    Login,
    Csrf,
    Logout,
    Destroy,
    ChangePassword,
    /// Staff administration (`src/api/users.rs`).
    ListUsers,
    /// A user's role and boards; the username is percent-decoded here, normalized later.
    SetUserRole {
        username: String,
    },
    SetUserDisabled {
        username: String,
    },
    /// One's own second factor (`src/api/totp.rs`).
    TotpEnrol,
    TotpConfirm,
    TotpDisable,
    /// Password recovery (`src/api/recovery.rs`).
    IssueReset {
        username: String,
    },
    ResetPassword,
    /// Asks for a reset token by email.
    Recover,
    /// One's own email address (`src/api/email.rs`).
    GetEmail,
    SetEmail,
    /// An admin removes a user's lost second factor (`src/api/users.rs`).
    ClearTotp {
        username: String,
    },
    /// Board administration (`src/api/admin/boards.rs`).
    AdminListBoards,
    AdminCreateBoard,
    AdminGetBoard {
        board: String,
    },
    AdminUpdateBoard {
        board: String,
    },
    /// The dashboard's figures (`src/api/admin/stats.rs`).
    AdminStats,
    AdminDeleteBoard {
        board: String,
    },
    /// The caller's own API tokens (`src/api/tokens.rs`).
    ListTokens,
    CreateToken,
    /// `DELETE`, the one route taking that method; the id is checked by the handler.
    RevokeToken {
        id: String,
    },
    /// Moderation (`src/api/moderation.rs`, `src/api/reports.rs`, `src/api/modlog.rs`).
    ReportPost {
        board: String,
        no: u64,
    },
    StaffDelete {
        board: String,
        no: u64,
    },
    BoardReports {
        board: String,
    },
    HandleReports {
        board: String,
        no: u64,
    },
    ListReports,
    ReportCounts,
    /// `GET /api/reports/live`: the report counts as a staff event stream.
    ReportsLive,
    ThreadPosters {
        board: String,
        thread: u64,
    },
    ModLog,
    PublicModLog {
        board: String,
    },
    /// File bans (`src/api/file_bans.rs`), on one board or (`board: None`) on every board. The
    /// hash is checked by the handler.
    ListFileBans {
        board: Option<String>,
    },
    CreateFileBan {
        board: Option<String>,
    },
    LiftFileBan {
        board: Option<String>,
        sha256: String,
    },
    /// Word filters (`src/api/filters.rs`), of one board or (`board: None`) global.
    ListFilters {
        board: Option<String>,
    },
    CreateFilter {
        board: Option<String>,
    },
    UpdateFilter {
        board: Option<String>,
        id: u64,
    },
    DeleteFilter {
        board: Option<String>,
        id: u64,
    },
    /// Bans and appeals (`src/api/bans.rs`): staff routes check the role in the handler, as a
    /// ban's board is in its body or its stored row, not the path.
    ListBans,
    CreateBan,
    LiftBan {
        id: u64,
    },
    /// The client's own bans, by its address.
    MyBans,
    AppealBan {
        id: u64,
    },
    ListAppeals,
    AnswerAppeal {
        id: u64,
        accept: bool,
    },
    /// Bans the poster of a post, by address or cloak, without showing either.
    BanPoster {
        board: String,
        no: u64,
    },
    /// A staff action on a thread (`src/api/thread_actions.rs`):
    /// `POST /api/boards/{board}/threads/{thread}/{sticky|lock|cyclic|move}`.
    ThreadAction {
        board: String,
        thread: u64,
        act: ThreadAct,
    },
}

/// The staff actions on a thread, by the last segment of their path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAct {
    Sticky,
    Lock,
    Cyclic,
    Move,
}

impl ThreadAct {
    fn parse(segment: &str) -> Option<ThreadAct> {
        Some(match segment {
            "sticky" => ThreadAct::Sticky,
            "lock" => ThreadAct::Lock,
            "cyclic" => ThreadAct::Cyclic,
            "move" => ThreadAct::Move,
            _ => return None,
        })
    }
}

/// Who may call a route. Checked in one place, the gatekeeper ([`crate::auth::gate::check`]),
/// before dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone. A logged-in caller is still known (for capcodes), and still needs the CSRF token
    /// to change anything with its session.
    Public,
    /// Signup, login and the "who am I" check: they open or read a session themselves.
    Auth,
    /// Any logged-in caller.
    User,
    /// Admins, global moderators, and the board moderators of the route's board
    /// ([`Route::board`]).
    BoardMod,
    /// Everyone [`Access::BoardMod`] admits, and the janitors of the route's board.
    Janitor,
    /// Any staff role (admins, global moderators, board moderators, janitors); the handler
    /// narrows what each sees to their boards.
    Staff,
    /// Admins.
    Admin,
    /// Admins and global moderators.
    GlobalMod,
}

impl Route {
    pub fn access(&self) -> Access {
        match self {
            Route::Healthz
            | Route::ListBoards
            | Route::GetBoard { .. }
            | Route::CreateThread { .. }
            | Route::GetThread { .. }
            | Route::CreateReply { .. }
            | Route::GetPost { .. }
            | Route::Catalog { .. }
            | Route::Index { .. }
            | Route::Archive { .. }
            | Route::Captcha { .. }
            | Route::DeletePost { .. }
            | Route::Recent
            | Route::Live
            | Route::OpenApi
            | Route::GetFile { .. }
            | Route::FourBoards
            | Route::FourThreadList { .. }
            | Route::FourCatalog { .. }
            | Route::FourArchive { .. }
            | Route::FourIndex { .. }
            | Route::FourThread { .. }
            | Route::FourFile { .. }
            | Route::WebPage { .. }
            | Route::WebAsset { .. }
            | Route::MyBans
            | Route::AppealBan { .. }
            | Route::ReportPost { .. }
            | Route::PublicModLog { .. } => Access::Public,
            Route::StaffDelete { .. }
            | Route::BoardReports { .. }
            | Route::HandleReports { .. }
            | Route::ThreadPosters { .. } => Access::Janitor,
            Route::ListReports | Route::ReportCounts | Route::ReportsLive | Route::ModLog => {
                Access::Staff
            }
            Route::Signup | Route::Login | Route::Csrf | Route::ResetPassword | Route::Recover => {
                Access::Auth
            }
            Route::Logout
            | Route::Destroy
            | Route::ChangePassword
            | Route::TotpEnrol
            | Route::TotpConfirm
            | Route::TotpDisable
            | Route::GetEmail
            | Route::SetEmail => Access::User,
            Route::ListTokens | Route::CreateToken | Route::RevokeToken { .. } => Access::User,
            Route::ListBans
            | Route::CreateBan
            | Route::LiftBan { .. }
            | Route::ListAppeals
            | Route::AnswerAppeal { .. } => Access::User,
            Route::ListUsers
            | Route::SetUserRole { .. }
            | Route::SetUserDisabled { .. }
            | Route::IssueReset { .. }
            | Route::ClearTotp { .. }
            | Route::AdminListBoards
            | Route::AdminCreateBoard
            | Route::AdminDeleteBoard { .. }
            | Route::AdminStats => Access::Admin,
            // Janitors delete and handle reports; the state of threads is for moderators.
            Route::AdminGetBoard { .. }
            | Route::AdminUpdateBoard { .. }
            | Route::ThreadAction { .. } => Access::BoardMod,
            Route::BanPoster { .. } => Access::BoardMod,
            Route::ListFileBans { board }
            | Route::CreateFileBan { board }
            | Route::LiftFileBan { board, .. } => match board {
                Some(_) => Access::BoardMod,
                None => Access::GlobalMod,
            },
            Route::ListFilters { board }
            | Route::CreateFilter { board }
            | Route::UpdateFilter { board, .. }
            | Route::DeleteFilter { board, .. } => match board {
                Some(_) => Access::BoardMod,
                None => Access::Admin,
            },
        }
    }

    /// Whether the route spends the caller's request budget (`request_budget_*`): it costs
    /// the server a write, image work or a password hash.
    pub fn is_expensive(&self) -> bool {
        matches!(
            self,
            Route::CreateThread { .. }
                | Route::CreateReply { .. }
                | Route::DeletePost { .. }
                | Route::ReportPost { .. }
                | Route::Signup
                | Route::Login
                | Route::ResetPassword
        )
    }

    /// The board a route acts on, for [`Access::BoardMod`] and [`Access::Janitor`].
    pub fn board(&self) -> Option<&str> {
        match self {
            Route::GetBoard { board }
            | Route::CreateThread { board }
            | Route::GetThread { board, .. }
            | Route::CreateReply { board, .. }
            | Route::GetPost { board, .. }
            | Route::Catalog { board }
            | Route::Index { board }
            | Route::Archive { board }
            | Route::Captcha { board }
            | Route::DeletePost { board, .. }
            | Route::FourThreadList { board }
            | Route::FourCatalog { board }
            | Route::FourArchive { board }
            | Route::FourIndex { board, .. }
            | Route::FourThread { board, .. }
            | Route::FourFile { board, .. }
            | Route::AdminGetBoard { board }
            | Route::AdminUpdateBoard { board }
            | Route::AdminDeleteBoard { board }
            | Route::ReportPost { board, .. }
            | Route::StaffDelete { board, .. }
            | Route::BoardReports { board }
            | Route::HandleReports { board, .. }
            | Route::ThreadPosters { board, .. }
            | Route::PublicModLog { board }
            | Route::BanPoster { board, .. } => Some(board),
            Route::ThreadAction { board, .. } => Some(board),
            Route::ListFileBans { board }
            | Route::CreateFileBan { board }
            | Route::LiftFileBan { board, .. }
            | Route::ListFilters { board }
            | Route::CreateFilter { board }
            | Route::UpdateFilter { board, .. }
            | Route::DeleteFilter { board, .. } => board.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
