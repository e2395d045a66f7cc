//! Benchmark (placeholder, completed below).
