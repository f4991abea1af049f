//! `unikc-hvt [OPTIONS] [--] IMAGE [ARGS...]`: run a Solo5 hvt image under KVM.

use std::process::ExitCode;

use unik_tender::{Options, hvt};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if unik_tender::options::wants_help(&args) {
        eprintln!("usage: unikc-hvt {}", unik_tender::options::USAGE);
        return ExitCode::SUCCESS;
    }
    if unik_tender::options::wants_version(&args) {
        println!("{}", unik_tender::options::version("unikc-hvt"));
        return ExitCode::SUCCESS;
    }
    let status = Options::parse(&args)
        .and_then(|o| hvt::prepare(&o, hvt::Stdout))
        .and_then(hvt::run);
    match status {
        Ok(s) => ExitCode::from(s as u8),
        Err(unik_tender::Error::Reported) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("unikc-hvt: {e}");
            ExitCode::FAILURE
        }
    }
}
