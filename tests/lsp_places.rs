//! The language server shows a mistake passed into a catalogue function
//! where the user wrote it, with the catalogue places as related
//! information (issue 21's example: static-website with a console where
//! `generic_stackv4` needs a network interface).

mod lsp_client;

use lsp_client::{Client, Scratch, pos, uri};

const EXAMPLE: &str = include_str!("../examples/static-website/config.unik");

#[test]
fn a_mistake_through_the_catalogue_is_shown_at_the_users_argument() {
    let text = EXAMPLE.replace(
        "generic_stackv4 default_network",
        "generic_stackv4 default_console",
    );
    assert_ne!(text, EXAMPLE, "the example still calls generic_stackv4");
    let s = Scratch::new();
    s.write("htdocs/index.html", "<p>hi</p>\n");
    let file = s.write("config.unik", &text);
    let mut c = Client::start(&s.path("cache"));
    c.open(&file, &text);
    let diags = c.diagnostics_until(&file, |d| d.iter().any(|d| d["code"] == "E0301"));
    let e0301: Vec<_> = diags.iter().filter(|d| d["code"] == "E0301").collect();
    assert_eq!(e0301.len(), 1, "one mistake, one diagnostic: {diags:?}");
    let d = e0301[0];
    // Line 23 (0-based 22), at `default_console`.
    let at = pos(&text, "default_console", 0, 0);
    assert_eq!(at["line"], 22);
    assert_eq!(d["range"]["start"], at);
    assert_eq!(
        d["range"]["end"],
        pos(&text, "default_console", 0, "default_console".len())
    );
    let related = d["relatedInformation"]
        .as_array()
        .expect("related information");
    let into_catalogue = related.iter().find(|r| {
        let u = r["location"]["uri"].as_str().unwrap();
        u != uri(&file) && u.ends_with("network.unik")
    });
    assert!(
        into_catalogue.is_some(),
        "related information into the catalogue: {related:?}"
    );
    c.shutdown();
}
