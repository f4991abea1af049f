//! `unikc-spt [OPTIONS] [--] IMAGE [ARGS...]`: run a Solo5 spt image.

use std::process::ExitCode;

use unik_tender::{Options, spt};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if unik_tender::options::wants_help(&args) {
        eprintln!("usage: unikc-spt {}", unik_tender::options::USAGE);
        return ExitCode::SUCCESS;
    }
    if unik_tender::options::wants_version(&args) {
        println!("{}", unik_tender::options::version("unikc-spt"));
        return ExitCode::SUCCESS;
    }
    let options = Options::parse(&args);
    let quiet = options
        .as_ref()
        .is_ok_and(|o| o.log == unik_tender::options::LogLevel::Quiet);
    let outcome = options
        .and_then(|o| {
            if o.dumpcore {
                return Err(unik_tender::Error::Usage(
                    "--dumpcore is an hvt option (an spt guest is a process: use the host's core dumps)"
                        .into(),
                ));
            }
            spt::prepare(&o)
        })
        .and_then(spt::run);
    match outcome {
        Ok(o) => {
            if let Some(line) = o.report().filter(|_| !quiet) {
                eprintln!("unikc-spt: {line}");
            }
            ExitCode::from(o.status() as u8)
        }
        Err(e) => {
            eprintln!("unikc-spt: {e}");
            ExitCode::FAILURE
        }
    }
}
