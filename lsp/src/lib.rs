//! The MicrOS language toolchain: the analysis behind the language server
//! and the `micros` command line.

pub mod analysis;
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;
pub mod ide;
pub mod nix;
pub mod server;

// Every binary linking this crate allocates with mimalloc. The formatter
// (alejandra) declares it as the global allocator itself on these targets,
// and a program can have only one: declare ours only where it does not.
#[cfg(not(any(
    all(
        target_arch = "aarch64",
        target_vendor = "unknown",
        target_os = "linux",
        target_env = "musl"
    ),
    all(
        target_arch = "arm",
        target_vendor = "unknown",
        target_os = "linux",
        target_env = "musl",
        target_abi = "eabihf"
    ),
    all(
        target_arch = "x86",
        target_vendor = "unknown",
        target_os = "linux",
        target_env = "musl"
    ),
    all(
        target_arch = "x86_64",
        target_vendor = "unknown",
        target_os = "linux",
        any(target_env = "gnu", target_env = "musl")
    ),
)))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
