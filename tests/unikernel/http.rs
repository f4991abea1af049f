//! The HTTP checks every static-website test runs with curl against the
//! server at a base URL: keep-alive, a range, a 404, a too-large header,
//! HEAD and a chunked upload.

use std::process::Command;

/// `curl ARGS`: (exit code, stdout, stderr). `curl` builds the command
/// (inside a namespace or not).
pub fn run(curl: &dyn Fn() -> Command, args: &[&str]) -> (i32, String, String) {
    let out = curl()
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the checks against `base` (`http://HOST:PORT`) serving the
/// static-website example's `htdocs` (`index` is its index.html).
pub fn checks(curl: &dyn Fn() -> Command, base: &str, index: &str) {
    checks_with(curl, base, index, &[]);
}

/// [`checks`], with `again` repeated after curl's `--next` (which forgets
/// the options before it, such as `--cacert`).
pub fn checks_with(curl: &dyn Fn() -> Command, base: &str, index: &str, again: &[&str]) {
    let ok = |args: &[&str]| {
        let (code, out, err) = run(curl, args);
        assert_eq!(code, 0, "curl {args:?}: {err}");
        out
    };
    let root = format!("{base}/");
    let css = format!("{base}/css/site.css");

    // Keep-alive: two URLs, one connection (the second connects 0 times).
    let out = ok(&[
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects}\n",
        &root,
        &css,
    ]);
    assert_eq!(out, "200 1\n200 0\n", "keep-alive");

    // A range: the first ten bytes, and one past the end.
    let out = ok(&["-r", "0-9", "-w", "\n%{http_code}", &root]);
    assert_eq!(out, format!("{}\n206", &index[..10]), "range");
    let (_, head, _) = run(curl, &["-r", "5-", "-D", "-", "-o", "/dev/null", &root]);
    let want = format!("content-range: bytes 5-{}/{}", index.len() - 1, index.len());
    assert!(
        head.to_ascii_lowercase().contains(&want),
        "{want} in\n{head}"
    );
    let out = ok(&[
        "-r",
        "100000-",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &root,
    ]);
    assert_eq!(out, "416", "a range past the end");

    // A 404.
    let out = ok(&["-w", "\n%{http_code}", &format!("{base}/nope.html")]);
    assert_eq!(out, "not found\n\n404");

    // A header too large for the server's limit (8 KiB): 431.
    let big = format!("X-Big: {}", "a".repeat(10_000));
    let out = ok(&["-H", &big, "-o", "/dev/null", "-w", "%{http_code}", &root]);
    assert_eq!(out, "431", "a too-large header");

    // HEAD: the length of the body, no body.
    let out = ok(&["-I", &root]);
    let lower = out.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200 ok\r\n"), "{out}");
    assert!(
        lower.contains(&format!("content-length: {}\r\n", index.len())),
        "{out}"
    );
    assert!(out.ends_with("\r\n\r\n"), "HEAD has no body: {out:?}");

    // A chunked upload: refused (405, the site is read-only) with its body
    // read to the end, so the next request on the connection is answered.
    let body = "x".repeat(5000);
    let mut args = vec![
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &body,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects}\n",
        &root,
        "--next",
    ];
    args.extend_from_slice(again);
    args.extend([
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects}\n",
        &css,
    ]);
    let out = ok(&args);
    assert_eq!(out, "405 1\n200 0\n", "chunked upload then a request");
}
