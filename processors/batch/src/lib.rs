//! Batch processor
