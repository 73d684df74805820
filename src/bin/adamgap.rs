//! The thin binary: everything is in the library's `cli` module.

fn main() {
    std::process::exit(adamgap::cli::main());
}
