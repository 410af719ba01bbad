//! Pure rules of the product: who may file, how people are matched to the roster, how
//! appeals are numbered and move between statuses. No I/O here.

pub mod appeal;
pub mod applicant;
pub mod calendar;
pub mod candidates;
pub mod consent;
pub mod deadlines;
pub mod directory;
pub mod eligibility;
pub mod history;
pub mod matching;
pub mod names;
pub mod number;
pub mod roster;
pub mod routing;
pub mod snils;
pub mod staff;
pub mod status;
pub mod status_link;
