//! The `main.rs` unikc generates for this `config.unik` (kept compiled so
//! the contract in runtime/README.md cannot rot):
//!
//! ```text
//! let
//!   count = key "count" { type = "int"; default = 3; stage = "runtime";
//!                         doc = "how many greetings"; };
//!   main = foreign "hello::Hello" { keys = [ count ]; } (console @-> sleep @-> job);
//! in register "hello" [ main $ default_console $ default_sleep ]
//! ```

// ---- the user's crate ----
mod hello {
    use unik_rt::{Console, JobError, Sleep};

    pub struct Hello;

    impl Hello {
        pub async fn start(
            console: &'static impl Console,
            sleep: &'static impl Sleep,
        ) -> Result<(), JobError> {
            let count = unik_rt::keys::int("count")?;
            if count > 1000 {
                return Err(JobError::new(format!("count {count} is too large")));
            }
            for i in 0..count {
                console.log(&format!("hello {i}"))?;
                unik_rt::log::info!(target: "hello", "greeted {i}");
                sleep.sleep_ns(1_000_000).await;
            }
            Ok(())
        }
    }
}

// ---- generated ----
use unik_rt::ExitStatus;
use unik_rt::keys::{KeyType, Keys, Value};

fn main() -> std::process::ExitCode {
    unik_unix::boot::exit(boot())
}

fn boot() -> Result<ExitStatus, ExitStatus> {
    let platform = unik_unix::UnixPlatform::new();
    let mut keys = Keys::new();
    unik_unix::boot::declare(keys.declare(
        "count",
        KeyType::Int,
        Some(Value::Int(3)),
        "how many greetings",
    ))?;
    unik_unix::boot::parse_keys(keys)?;
    let console = unik_unix::boot::device("console", unik_unix::console::connect())?;
    unik_unix::boot::reporter(console)?;
    let sleep = unik_unix::boot::device("sleep", unik_unix::sleep::connect())?;
    Ok(unik_rt::run_jobs(
        &platform,
        vec![unik_rt::job(
            "hello::Hello",
            hello::Hello::start(console, sleep),
        )],
    ))
}
