use unik_rt::keys::{self, KeyError, KeyType, Keys, Parsed, Value};

fn registry() -> Keys {
    let mut k = Keys::new();
    k.declare("port", KeyType::Int, Some(Value::Int(8080)), "TCP port")
        .unwrap();
    k.declare("name", KeyType::Str, None, "who to greet")
        .unwrap();
    k.declare("verbose", KeyType::Bool, Some(Value::Bool(false)), "chatty")
        .unwrap();
    k
}

#[test]
fn values_defaults_and_forms() {
    let mut k = registry();
    assert_eq!(
        k.parse(&["--name", "bob", "--verbose", "--port=1"]),
        Ok(Parsed::Run)
    );
    assert_eq!(k.value("port", KeyType::Int), Ok(&Value::Int(1)));
    assert_eq!(k.value("name", KeyType::Str), Ok(&Value::Str("bob".into())));
    assert_eq!(k.value("verbose", KeyType::Bool), Ok(&Value::Bool(true)));
    assert_eq!(
        k.value("logs", KeyType::Str),
        Ok(&Value::Str("info".into()))
    );
    let mut k = registry();
    k.parse(&["--name=a b", "--verbose=false"]).unwrap();
    assert_eq!(k.value("port", KeyType::Int), Ok(&Value::Int(8080)));
    assert_eq!(k.value("verbose", KeyType::Bool), Ok(&Value::Bool(false)));
}

#[test]
fn parse_errors() {
    let cases: Vec<(Vec<&str>, KeyError)> = vec![
        (
            vec!["--nope=1", "--name=x"],
            KeyError::Unknown("nope".into()),
        ),
        (
            vec!["--port=eighty", "--name=x"],
            KeyError::Invalid {
                name: "port".into(),
                value: "eighty".into(),
                expected: KeyType::Int,
            },
        ),
        (
            vec!["--verbose=yes", "--name=x"],
            KeyError::Invalid {
                name: "verbose".into(),
                value: "yes".into(),
                expected: KeyType::Bool,
            },
        ),
        (vec!["--port=1"], KeyError::Missing("name".into())),
        (vec!["--name"], KeyError::NoValue("name".into())),
        (
            vec!["stray", "--name=x"],
            KeyError::Unexpected("stray".into()),
        ),
        (
            vec!["--name=x", "--logs=loud"],
            KeyError::Invalid {
                name: "logs".into(),
                value: "loud".into(),
                expected: KeyType::Str,
            },
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(registry().parse(&args), Err(expected), "args {args:?}");
    }
}

#[test]
fn declaration_errors() {
    let mut k = registry();
    assert_eq!(
        k.declare("port", KeyType::Int, None, ""),
        Err(KeyError::Duplicate("port".into()))
    );
    assert_eq!(
        k.declare("x", KeyType::Int, Some(Value::Bool(true)), ""),
        Err(KeyError::BadDefault("x".into()))
    );
}

#[test]
fn help_lists_every_key() {
    let mut k = registry();
    assert_eq!(k.parse(&["--port=9", "--help"]), Ok(Parsed::Help));
    let help = k.help();
    for needle in [
        "--port=int (default 8080)",
        "TCP port",
        "--name=string (required)",
        "--verbose=bool",
        "--logs",
    ] {
        assert!(help.contains(needle), "missing {needle:?} in\n{help}");
    }
}

#[test]
fn installed_keys_are_readable_with_types_checked() {
    assert_eq!(keys::int("port"), Err(KeyError::NotInstalled));
    let mut k = registry();
    k.parse(&["--name=zed", "--port=443"]).unwrap();
    k.install();
    assert_eq!(keys::int("port"), Ok(443));
    assert_eq!(keys::string("name"), Ok("zed".to_string()));
    assert_eq!(keys::bool("verbose"), Ok(false));
    assert_eq!(
        keys::string("port"),
        Err(KeyError::WrongType {
            name: "port".into(),
            declared: KeyType::Int,
            requested: KeyType::Str
        })
    );
    assert_eq!(
        keys::int("absent"),
        Err(KeyError::NotDeclared("absent".into()))
    );
}
