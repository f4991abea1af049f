//! A real client: headless Neovim with `editors/nvim/unik.lua` opens an
//! example with an injected type error and reads `vim.diagnostic.get()`.
//! Neovim is required (Debian: `apt-get install neovim`).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
local unik = dofile(vim.env.UNIK_LUA)
unik.setup({ cmd = { vim.env.UNIKC, "lsp" } })
vim.cmd("edit " .. vim.fn.fnameescape(vim.env.UNIK_FILE))
local function typed()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == "E0301" then return true end
  end
  return false
end
local ok = vim.wait(60000, typed, 50)
local out = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out, { code = d.code, lnum = d.lnum, col = d.col, end_lnum = d.end_lnum,
                      end_col = d.end_col, severity = d.severity, message = d.message,
                      source = d.source })
end
local result = { ok = ok, filetype = vim.bo.filetype, diagnostics = out }
vim.fn.writefile({ vim.fn.json_encode(result) }, vim.env.UNIK_OUT)
vim.cmd("qa!")
"#;

#[test]
fn neovim_shows_the_servers_diagnostics() {
    let has_nvim = Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_nvim,
        "Neovim is required for this test (Debian: apt-get install neovim); CI must install it"
    );
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let hello = std::fs::read_to_string(repo.join("examples/hello/config.unik")).unwrap();
    // The injected error: the clock where the console goes.
    let broken = hello.replace(
        "main $ default_console $ default_time",
        "main $ default_time $ default_time",
    );
    assert_ne!(broken, hello, "the example changed; update the injection");
    let file = dir.path().join("config.unik");
    std::fs::write(&file, &broken).unwrap();
    let script = dir.path().join("test.lua");
    std::fs::write(&script, SCRIPT).unwrap();
    let out = dir.path().join("out.json");

    let mut child = Command::new("nvim")
        .args(["--headless", "--clean", "-u", "NONE", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("UNIK_LUA", repo.join("editors/nvim/unik.lua"))
        .env("UNIKC", env!("CARGO_BIN_EXE_unikc"))
        .env("UNIK_FILE", &file)
        .env("UNIK_OUT", &out)
        .env("UNIKC_CACHE_DIR", dir.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("starting nvim");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("waiting for nvim").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("nvim wrote its result"))
            .expect("JSON");
    assert_eq!(result["filetype"], "unik");
    assert_eq!(result["ok"], true, "no E0301 reached Neovim: {result:#}");
    let diags = result["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{result:#}");
    let d = &diags[0];
    assert_eq!(d["code"], "E0301");
    assert_eq!(d["source"], "unikc");
    assert_eq!(d["severity"], 1, "an error");
    // The first `default_time`, where the console belongs (0-based line and byte column).
    let line = broken
        .lines()
        .position(|l| l.contains("main $ default_time"))
        .unwrap();
    let col = broken
        .lines()
        .nth(line)
        .unwrap()
        .find("default_time")
        .unwrap();
    assert_eq!(
        (d["lnum"].as_u64(), d["col"].as_u64()),
        (Some(line as u64), Some(col as u64))
    );
    assert_eq!(d["end_lnum"].as_u64(), Some(line as u64));
    assert_eq!(
        d["end_col"].as_u64(),
        Some((col + "default_time".len()) as u64)
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("device type mismatch: expected `console`, found `time`"),
        "{d}"
    );
}
