//! `kokugen [flags]`: writes koku-layout raw hourly Parquet under `--out` and prints one JSON line
//! per file (see `--help` and tools/README.md).

use std::io::Write;
use std::process::ExitCode;

use kokugen::{Config, Error};

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{}", kokugen::config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kokugen: {e}");
            if matches!(e, Error::Usage(_)) {
                eprintln!("(kokugen --help lists the flags)");
            }
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let mut print_failed = false;
    let mut on_file = |file: &kokugen::FileReport| {
        // One line per file as soon as it is complete, for callers that upload as they go.
        if writeln!(stdout, "{}", file.to_json())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            print_failed = true;
        }
    };
    match kokugen::run(&config, &mut on_file) {
        Ok(shape) => {
            if let Some(shape) = shape {
                eprintln!("{}", shape.to_json());
            }
            if print_failed {
                eprintln!("kokugen: could not write to stdout");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kokugen: {e}");
            ExitCode::FAILURE
        }
    }
}
