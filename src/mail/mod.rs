//! Mail: messages rendered from `templates/mail/`, queued in the outbox inside the
//! transaction that causes them, and delivered by the worker through SMTP (or the
//! development mailbox).

pub mod messages;
pub mod smtp;
pub mod transport;
pub mod worker;

pub use transport::Transport;
pub use worker::Worker;
