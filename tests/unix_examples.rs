//! Every example is configured, built and run on the unix target, and its
//! output or behaviour checked.

mod unikernel;

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use unikernel::{copy_example, messages, repo, run};

fn example(name: &str) -> std::path::PathBuf {
    repo().join("examples").join(name)
}

/// `unikc run ARGS` in `dir`, output piped: `unikc run` execs the image, so
/// the child is the server and killing it stops the server.
fn serve(dir: &std::path::Path, args: &[&str]) -> unikernel::Running {
    let _g = unikernel::build_lock();
    let child = unikernel::command(dir, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    unikernel::Running(child)
}

/// A connection to the server on `port`, retried until `deadline` while the
/// server runs; `what` names the connection in the failure message.
fn connect(
    server: &mut unikernel::Running,
    port: u16,
    deadline: Instant,
    what: &str,
) -> std::net::TcpStream {
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(e) => {
                if let Ok(Some(status)) = server.0.try_wait() {
                    panic!("the server stopped ({status}) before {what}: {e}");
                }
                assert!(Instant::now() < deadline, "nothing listens on {port}: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn noop_boots_and_stops() {
    let out = run(&example("noop"), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "", "{}", out.all());
    assert!(example("noop/dist/noop").is_file());
}

#[test]
fn hello_greets_four_times() {
    let out = run(&example("hello"), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "hello\n".repeat(4), "{}", out.all());
}

#[test]
fn prng_prints_numbers_that_differ_between_runs() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let out = run(&example("prng"), &[]);
        assert_eq!(out.code, 0, "{}", out.all());
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{}", out.all());
        for l in lines {
            assert!(
                l.len() == 16 && l.chars().all(|c| c.is_ascii_hexdigit()),
                "{l:?} is not a 64-bit number in hex"
            );
            seen.push(l.to_string());
        }
    }
    // Eight 64-bit draws: a repeat would mean the generator is not random.
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 8, "{seen:?}");
}

#[test]
fn hello_key_takes_its_greeting_at_boot() {
    let dir = example("hello-key");
    let out = run(&dir, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "Hello World!\n".repeat(4));

    // A runtime key on unikc's command line becomes a boot argument,
    // escaped spaces and all.
    let out = run(&dir, &["--hello=Bonjour !"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "Bonjour !\n".repeat(4), "{}", out.all());

    // So do arguments after `--`.
    let out = run(&dir, &["--", "--hello=Hola"]);
    assert_eq!(out.stdout, "Hola\n".repeat(4), "{}", out.all());

    let out = run(&dir, &["--", "--help"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("--hello=string"), "{}", out.all());
    assert!(out.stdout.contains("How to say hello"), "{}", out.all());

    // A bad boot argument is the unikernel's usage error (status 2).
    let out = run(&dir, &["--", "--nope=1"]);
    assert_eq!(out.code, 2, "{}", out.all());
}

#[test]
fn clock_reads_both_clocks() {
    let out = run(&example("clock"), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    let lines = messages(&out.stdout);
    assert_eq!(lines.len(), 3, "{}", out.all());
    let mut last_mono = 0u64;
    for l in &lines {
        // `[clock] wall clock W ns (DATE), monotonic clock M ns`
        let words: Vec<&str> = l.split_whitespace().collect();
        let wall: i128 = words[3].parse().unwrap();
        let mono: u64 = words[8].parse().unwrap();
        assert!((now - wall).abs() < 120_000_000_000, "wall clock off: {l}");
        assert!(mono > last_mono, "monotonic clock went back: {l}");
        last_mono = mono;
    }
}

#[test]
fn block_writes_and_reads_back_a_file() {
    let (_tmp, dir) = copy_example("block");
    let disk = dir.join("disk.img");
    std::fs::write(&disk, vec![0u8; 1 << 20]).unwrap();
    let out = run(&dir, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&[
        "[block] 2048 sectors of 512 bytes, read-write",
        "[block] verified 8 sectors",
    ]);
    let data = std::fs::read(&disk).unwrap();
    assert_eq!(data.len(), 1 << 20, "the device never grows the file");
    assert!(data[..512].iter().enumerate().all(|(i, b)| *b == i as u8));
    assert_eq!(data[512], 31, "sector 1 starts its pattern at 31");

    // Without the file, the device fails to connect: status 3, and says which.
    std::fs::remove_file(&disk).unwrap();
    let out = run(&dir, &[]);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr
            .contains("device block_of_file disk.img: block device not found"),
        "{}",
        out.all()
    );
    assert!(!disk.exists(), "a missing disk is not created");
}

#[test]
fn block_on_a_ramdisk() {
    let (_tmp, dir) = copy_example("block");
    std::fs::write(dir.join("config.unik"), unikernel::RAMDISK_CONFIG).unwrap();
    let out = run(&dir, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&[
        "[block] 64 sectors of 512 bytes, read-write",
        "[block] verified 8 sectors",
        "[block] reading past the end: 1 sectors at sector 64 exceed the device's 64 sectors",
    ]);
    // generic_block's `--block=ramdisk` is the same device.
    let (_tmp, dir) = copy_example("block");
    std::fs::write(
        dir.join("config.unik"),
        "let main = foreign \"block::Block\" (block @-> job); in\n\
         register \"block\" [ main $ generic_block \"disk.img\" ]\n",
    )
    .unwrap();
    let out = run(&dir, &["--block=ramdisk"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&["[block] verified 8 sectors"]);
    assert!(!dir.join("disk.img").exists(), "a ramdisk touches no file");
}

#[test]
fn kv_ro_crunch_and_direct_agree() {
    let dir = example("kv_ro");
    let crunch = run(&dir, &[]);
    assert_eq!(crunch.code, 0, "{}", crunch.all());
    let lines = messages(&crunch.stdout);
    crunch.assert_logged(&["[kv_ro] secret: foo bar"]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[kv_ro] /dir/hello.txt: 21 bytes, sha256 ")),
        "{}",
        crunch.all()
    );
    // The crunch image carries its files: it runs where there is no `t/`.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(dir.join("dist/kv_ro"));
    c.current_dir(elsewhere.path());
    let standalone = unikernel::output(c);
    assert_eq!(standalone.code, 0, "{}", standalone.all());
    assert_eq!(messages(&standalone.stdout), lines);

    let direct = run(&dir, &["--kv_ro=direct"]);
    assert_eq!(direct.code, 0, "{}", direct.all());
    assert_eq!(messages(&direct.stdout), lines, "crunch and direct differ");
    // The direct image reads `t/` at run time.
    let mut c = std::process::Command::new(dir.join("dist/kv_ro"));
    c.current_dir(elsewhere.path());
    let missing = unikernel::output(c);
    assert_eq!(missing.code, 3, "{}", missing.all());
}

/// Two checkouts of one project are built in one copy of the workspace
/// (codegen's `stage`), which reaches their crate and embedded files through
/// links: each image has its own checkout's code and files, even when they
/// are older than the other checkout's build (cargo judges files by their
/// times).
#[test]
fn two_checkouts_build_their_own_code_and_files() {
    let (_a_tmp, a) = copy_example("kv_ro");
    let (_b_tmp, b) = copy_example("kv_ro");
    std::fs::write(b.join("t/secret"), "another secret\n").unwrap();
    let lib = std::fs::read_to_string(b.join("src/lib.rs")).unwrap();
    let lib = lib.replace("\"secret: {}\"", "\"the secret: {}\"");
    std::fs::write(b.join("src/lib.rs"), lib).unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for f in ["t/secret", "src/lib.rs"] {
        let file = std::fs::File::options()
            .write(true)
            .open(b.join(f))
            .unwrap();
        file.set_modified(old).unwrap();
    }
    let secret = |dir: &std::path::Path| {
        unikernel::build(dir, &[]);
        let out = unikernel::output(std::process::Command::new(dir.join("dist/kv_ro")));
        assert_eq!(out.code, 0, "{}", out.all());
        messages(&out.stdout)
            .into_iter()
            .find(|l| l.contains(" secret: "))
            .unwrap_or_else(|| panic!("no secret:\n{}", out.all()))
    };
    assert_eq!(secret(&a), "[kv_ro] secret: foo bar");
    assert_eq!(secret(&b), "[kv_ro] the secret: another secret");
    assert_eq!(secret(&a), "[kv_ro] secret: foo bar");
}

#[test]
fn kv_rw_in_memory() {
    let out = run(&example("kv_rw"), &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        messages(&out.stdout),
        [
            "[kv_rw] greeting = hello",
            "[kv_rw] dir holds /dir/a /dir/b",
            "[kv_rw] after the batch: dir/a = one, dir/b exists: false",
            "[kv_rw] after removing dir: dir/a exists: false",
        ]
    );
}

#[test]
fn network_echoes_over_tcp() {
    let dir = example("network");
    unikernel::build(&dir, &[]);
    let port = unikernel::free_port();
    let key = format!("--port={port}");
    let mut server = serve(&dir, &["run", &key]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stream = connect(&mut server, port, deadline, "accepting");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut s = stream.try_clone().unwrap();
        let p = payload.clone();
        std::thread::spawn(move || {
            s.write_all(&p).unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    stream.read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "the echo differs from what was sent");

    // A second client is served too.
    let mut again = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    again.write_all(b"once more").unwrap();
    again.shutdown(std::net::Shutdown::Write).unwrap();
    let mut back = String::new();
    again.read_to_string(&mut back).unwrap();
    assert_eq!(back, "once more");
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server keeps running"
    );
}

/// `--connections=N`: tcp-echo serves N connections, then logs the stack's counters on one
/// line (`StackV4::stats`) and exits by itself. On unix the host's sockets carry TCP: the
/// stack counts the flows it accepted, and the packets are the kernel's.
#[test]
fn tcp_echo_stops_after_its_connections_and_logs_the_stack_counters() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &[]);
    let port = unikernel::free_port();
    let mut server = serve(&dir, &["run", &format!("--port={port}"), "--connections=3"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    for i in 0..3 {
        // A refused connect reaches no listener, so it is not counted.
        let mut stream = connect(&mut server, port, deadline, &format!("connection {i}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let msg = format!("connection {i}");
        stream.write_all(msg.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = String::new();
        stream.read_to_string(&mut back).unwrap();
        assert_eq!(back, msg);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server still runs after its 3 connections"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    server
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{status}\n{out}");
    let lines = messages(&out);
    let stats: Vec<_> = lines
        .iter()
        .filter(|l| l.starts_with("[tcp-echo] stack:"))
        .collect();
    assert_eq!(
        stats,
        ["[tcp-echo] stack: tcp accepted 3 connected 0; packets handled by the host"],
        "{out}"
    );
    // The summary comes after the last connection was served.
    assert_eq!(
        lines.last().map(String::as_str),
        Some(stats[0].as_str()),
        "{out}"
    );
}

/// static-website with `--connections=1`: one HTTP request is answered, then the server
/// logs the stack's counters and exits by itself.
#[test]
fn static_website_stops_after_one_connection_and_logs_the_stack_counters() {
    let (_tmp, dir) = copy_example("static-website");
    unikernel::build(&dir, &[]);
    let port = unikernel::free_port();
    let mut server = serve(&dir, &["run", &format!("--port={port}"), "--connections=1"]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stream = connect(&mut server, port, deadline, "accepting");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server still runs after its connection"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    server
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{status}\n{out}");
    let stats: Vec<_> = messages(&out)
        .into_iter()
        .filter(|l| l.contains("stack:"))
        .collect();
    assert_eq!(
        stats,
        ["[http] stack: tcp accepted 1 connected 0; packets handled by the host"],
        "{out}"
    );
}

/// static-website on the host's sockets answers curl: keep-alive, ranges, 404, 431, HEAD,
/// a chunked upload (see `unikernel::http::checks`), and pipelined requests in order.
#[test]
fn static_website_answers_curl_over_http_1_1() {
    unikernel::require(&["curl"]);
    let (_tmp, dir) = copy_example("static-website");
    unikernel::build(&dir, &[]);
    let port = unikernel::free_port();
    let mut server = serve(&dir, &["run", &format!("--port={port}")]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stream = connect(&mut server, port, deadline, "pipelining");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Three requests in one write: three answers, in order, then the close asked for.
    stream
        .write_all(
            b"GET /css/site.css HTTP/1.1\r\nHost: t\r\n\r\n\
              HEAD /nope HTTP/1.1\r\nHost: t\r\n\r\n\
              GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let statuses: Vec<&str> = answer
        .lines()
        .filter_map(|l| l.strip_prefix("HTTP/1.1 "))
        .map(|l| &l[..3])
        .collect();
    assert_eq!(statuses, ["200", "404", "200"], "{answer}");
    let index = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    assert!(answer.ends_with(&index), "{answer}");

    let base = format!("http://127.0.0.1:{port}");
    unikernel::http::checks(&|| std::process::Command::new("curl"), &base, &index);
}

/// http-fetch gets a file from Python's http.server and prints its status and length; a
/// port nothing listens on is a clear error (exit 1), not a panic.
#[test]
fn http_fetch_prints_the_status_and_length() {
    unikernel::require(&["python3"]);
    let (_tmp, dir) = copy_example("http-fetch");
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("file.bin"), vec![b'x'; 123_456]).unwrap();
    let port = unikernel::free_port();
    let _peer = unikernel::Running(
        std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(site.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}/file.bin");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "http.server does not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run(&dir, &[&format!("--uri={url}")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(
        out.stdout,
        format!("{url}: 200 OK\nbody: 123456 bytes\n"),
        "{}",
        out.all()
    );
    let out = run(&dir, &[&format!("--uri={url}.missing")]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.starts_with(&format!("{url}.missing: 404 ")),
        "{}",
        out.all()
    );

    let closed = unikernel::free_port();
    let out = run(&dir, &[&format!("--uri=http://127.0.0.1:{closed}/")]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("connection refused"), "{}", out.all());
    assert!(!out.all().contains("panicked"), "{}", out.all());
}
