//! The thin binary: argument parsing and printing ([`cli`]); every computation is in the library.

mod cli;

/// On SIGINT or SIGTERM: removes the staging folders of output folders being written
/// (`adamgap::outdir`), then exits with 128 + the signal (130, 143) as the signal would.
fn remove_staging_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            adamgap::outdir::remove_live();
            std::process::exit(128 + sig);
        }
    });
}

fn main() {
    remove_staging_on_signals();
    // What the input reader waits for (a FIFO without a writer) goes to stderr, best effort.
    adamgap::input::set_notice(|line| {
        let _ = cli::output::stderr(&format!("{line}\n"));
    });
    std::process::exit(cli::main());
}
