use log::LevelFilter;
use unik_rt::reporter::{self, ReporterError, parse_spec, rfc3339};
use unik_rt::{Console, ConsoleError, Pclock};

struct Capture(spin::Mutex<Vec<String>>);

impl Console for Capture {
    fn write(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
        self.0
            .lock()
            .push(String::from_utf8_lossy(bytes).into_owned());
        Ok(())
    }
}

struct Fixed;
impl Pclock for Fixed {
    fn now_ns(&self) -> u64 {
        1_700_000_000_123_000_000
    }
}

#[test]
fn specs() {
    let s = parse_spec("warning,net:debug,net.tcp:quiet").unwrap();
    assert_eq!(s.default, LevelFilter::Warn);
    assert_eq!(s.level_for("net.tcp.flow"), LevelFilter::Off);
    assert_eq!(s.level_for("net.udp"), LevelFilter::Debug);
    assert_eq!(s.level_for("app"), LevelFilter::Warn);
    assert_eq!(parse_spec("*:debug").unwrap().default, LevelFilter::Debug);
    assert!(parse_spec("loud").is_err());
    assert!(parse_spec(":info").is_err());
}

#[test]
fn timestamps() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_700_000_000_123_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(rfc3339(951_782_400_000_000_000), "2000-02-29T00:00:00Z");
}

// The `log` facade is global to the process, so one test owns it.
#[test]
fn reporter_filters_and_formats() {
    let console: &'static Capture = unik_rt::leak(Capture(spin::Mutex::new(Vec::new())));
    reporter::init(console, Some(unik_rt::leak(Fixed)), "info,noisy:error").unwrap();
    log::info!(target: "app", "hello {}", 42);
    log::debug!(target: "app", "hidden");
    log::warn!(target: "noisy.sub", "hidden too");
    log::error!(target: "noisy", "shown");
    let lines: String = console.0.lock().concat();
    assert_eq!(
        lines,
        "2023-11-14T22:13:20Z INF [app] hello 42\n2023-11-14T22:13:20Z ERR [noisy] shown\n"
    );
    assert_eq!(
        reporter::init(console, None, "info"),
        Err(ReporterError::AlreadySet)
    );
}
