//! ESIA (Госуслуги) OAuth2/OIDC: the protocol client, the signing seam for the GOST
//! `client_secret`, JWT verification, and the built-in emulator of the same protocol.

pub mod client;
pub mod emulator;
pub mod error;
pub mod jwt;
pub mod protocol;
pub mod signer;

pub use client::EsiaClient;
pub use error::EsiaError;
