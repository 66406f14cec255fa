//! Standard output for commands whose output is read by a person or piped into another tool.
//!
//! `println!` panics when the reader has gone (`orrery service inspect X.jam | head -1`: "failed
//! printing to stdout: Broken pipe", exit 101). A command-line tool should stop quietly instead,
//! as ripgrep and most Unix tools do: the reader asked for no more. Every line the `orrery`
//! binary prints goes through [`outln!`]; a broken pipe ends the process with status 0 and nothing
//! on standard error, any other write error with a message and status 1.
//!
//! Ending the process mid-command is safe: what `orrery import --db` has committed is durable
//! block by block (the store survives `kill -9`), and the other commands keep nothing.

use std::fmt;
use std::io::{self, Write};

/// `println!` that ends the process quietly when standard output is a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}

/// Writes one line to standard output.
pub fn line(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        write_failed(e)
    }
}

/// Writes text as it is (it brings its own line ends) to standard output.
pub fn text(text: &str) {
    if let Err(e) = io::stdout().lock().write_all(text.as_bytes()) {
        write_failed(e)
    }
}

fn write_failed(e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to standard output: {e}");
    std::process::exit(1);
}
