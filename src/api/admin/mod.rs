//! The staff API under `/api/admin/`: what the route table lets only staff call.

pub mod boards;
pub mod stats;
