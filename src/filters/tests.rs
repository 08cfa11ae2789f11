use super::*;

fn filter(id: u64, board: Option<&str>, pattern: &str, regex: bool, action: Action) -> Filter {
    Filter {
        id,
        board: board.map(str::to_owned),
        pattern: pattern.into(),
        regex,
        action,
        fields: Field::ALL.to_vec(),
        actor: "mod".into(),
        updated_at: 0,
    }
}

fn replace(with: &str) -> Action {
    Action::Replace {
        replacement: with.into(),
    }
}

fn reject(message: &str) -> Action {
    Action::Reject {
        message: message.into(),
    }
}

#[test]
fn patterns_are_bounded_and_checked() {
    let long = "a".repeat(MAX_PATTERN_CHARS + 1);
    let cases: &[(&str, bool, bool)] = &[
        ("spam", false, true),
        ("(", false, true),
        ("(", true, false),
        ("sp[a@]m", true, true),
        ("a*", true, false),
        ("\u{200b}", false, false),
        ("   ", false, false),
        (&long, false, false),
        // Within the length, over the compiled size.
        (r"\w{1000}", true, false),
        ("(?P<x>a)(?P<x>b)", true, false),
    ];
    for (pattern, regex, ok) in cases {
        let result = compile(pattern, *regex);
        assert_eq!(result.is_ok(), *ok, "{pattern:?} regex={regex}");
        if let Err(e) = result {
            assert_eq!(e.kind, ErrorKind::InvalidPattern);
            assert_eq!(e.field.as_deref(), Some("pattern"));
        }
    }
}

#[test]
fn plain_patterns_match_folded_text_literally() {
    let re = compile("Sp.M", false).unwrap();
    assert!(re.is_match(&normalize::fold("ＳＰ.Ｍ")));
    assert!(!re.is_match(&normalize::fold("spam")), "the dot is literal");
}

#[test]
fn rejects_win_then_replacements_apply_in_order() {
    let compiled = Compiled::new(vec![
        filter(1, None, "darn", false, replace("dang")),
        filter(2, Some("b"), "dang", false, replace("gosh")),
        filter(3, Some("b"), "buy.*now", true, reject("No ads.")),
        filter(4, Some("t"), "hello", false, reject("Not on /t/.")),
    ]);
    let run = |board: &str, body: &str| {
        let (mut name, mut subject, mut body) = ("Anon".to_owned(), None, body.to_owned());
        let mut file = Some("darn.png".to_owned());
        let mut texts = Texts {
            name: &mut name,
            subject: &mut subject,
            body: &mut body,
            file_names: vec![&mut file],
        };
        compiled
            .apply(board, &mut texts)
            .map(|_| (body, file.unwrap()))
            .map_err(|e| e.message)
    };
    type Outcome<'a> = Result<(&'a str, &'a str), &'a str>;
    let cases: &[(&str, &str, Outcome)] = &[
        ("b", "oh DARN", Ok(("oh gosh", "gosh.png"))),
        ("c", "oh DARN", Ok(("oh dang", "dang.png"))),
        ("b", "BUY it NOW", Err("No ads.")),
        ("c", "buy it now", Ok(("buy it now", "dang.png"))),
        ("t", "héllo", Err("Not on /t/.")),
        ("b", "héllo", Ok(("héllo", "gosh.png"))),
    ];
    for (board, body, expected) in cases {
        let expected = expected
            .map(|(b, f)| (b.to_owned(), f.to_owned()))
            .map_err(str::to_owned);
        assert_eq!(run(board, body), expected, "/{board}/ {body:?}");
    }
    assert_eq!(compiled.count("b"), 3);
    assert_eq!(compiled.count("x"), 1);
}

#[test]
fn fields_limit_where_a_filter_looks() {
    let mut only_subject = filter(1, None, "bad", false, reject("no"));
    only_subject.fields = vec![Field::Subject];
    let compiled = Compiled::new(vec![only_subject]);
    let check = |subject: Option<&str>, body: &str| {
        let (mut name, mut subject, mut body) = (
            "bad".to_owned(),
            subject.map(str::to_owned),
            body.to_owned(),
        );
        let mut texts = Texts {
            name: &mut name,
            subject: &mut subject,
            body: &mut body,
            file_names: Vec::new(),
        };
        compiled.apply("b", &mut texts).is_ok()
    };
    assert!(check(None, "bad"));
    assert!(check(Some("fine"), "bad"));
    assert!(!check(Some("so BAD"), "fine"));
}
