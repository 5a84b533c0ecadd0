//! The generic `strata` binary: trees on disk, SQL deltas. See the `strata_cli` library for
//! the commands and for the embedded form applications build over their compiled-in plan.

fn main() -> std::process::ExitCode {
    strata_cli::main()
}
