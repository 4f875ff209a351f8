//! Health check extension
