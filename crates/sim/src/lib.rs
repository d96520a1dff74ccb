//! wxdesk-sim is a faithful local stand-in for the WeChat servers (API, login pages, pushes), for
//! tests, benchmarks and the sandbox.
