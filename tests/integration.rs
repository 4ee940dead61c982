//! Integration tests: start the lab on 127.0.0.1:0 and run real scripts through the binary.
