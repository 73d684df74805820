//! The thin binary: argument parsing and printing ([`cli`]); every computation is in the library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
