//! The guest's KTAP suites, one folder each with its registry of cases in
//! `mod.rs`. A suite imports [`crate::fixtures`] and [`crate::fuzz`], never
//! another suite.

pub mod board;
pub mod differential;
pub mod dt_corpus;
pub mod fuzz;
pub mod legacy;
pub mod legacy_library;
pub mod library;
pub mod static_pd;
pub mod userspace;
