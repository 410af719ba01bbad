//! The integration stories, one module per capability, in a single test binary: the
//! application is linked once for all of them instead of once per capability. Every story
//! drives the real application over HTTP, on SQLite and on PostgreSQL (see `support`).
//!
//! `support` comes first and with `#[macro_use]`, so `story!` is in scope in every
//! capability module declared after it.

#[macro_use]
mod support;

mod admin_pages;
mod deadlines;
mod eligibility;
mod esia_login;
mod esia_protocol;
mod mail_delivery;
mod parent_appeal;
mod real_browser;
mod region_data;
mod retention;
mod site;
mod staff_inbox;
mod staff_isolation;
mod staff_workplace;
mod status_links;
