//! Benchmark harnesses for wxdesk; results are recorded in bench/RESULTS.md.
