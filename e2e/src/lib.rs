//! Guildmark's end-to-end tests live in `tests/e2e/` (one test binary): the mission as a
//! story through the real binary over HTTP, interoperability with Digital Bazaar's
//! verifiers (npm, `interop/`) and the tlog-scales log client (PyPI), and hostile input.
//! They drive the `guildmark` executable built from `server/`; this library is empty.
