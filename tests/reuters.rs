//! Reuters-21578 (../shared/data/reuters21578): real wire copy with repeated
//! and updated stories. Skips with a note when the collection is absent.

mod common;
use common::*;

#[test]
fn repeated_reuters_stories_are_grouped() {
    let Some(dir) = shared("data/reuters21578") else {
        return;
    };
    let w = Workdir::new();
    let out = w.path("out");
    let o = w.run(&[
        "scan",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    // Three records in the collection are genuinely unreadable: exit 1, named on stderr.
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("reut2-017.sgm:35556: invalid_utf8"), "{err}");
    assert!(err.contains("reut2-012.sgm:25983: empty_text"), "{err}");
    assert!(err.contains("reut2-017.sgm:6653: bad_date"), "{err}");
    let s = w.json("out/summary.json");
    assert_eq!(s["records"]["read"], 21578);
    assert_eq!(s["records"]["skipped"], 3);

    // Pairs whose <BODY> texts are byte-identical in the SGML (checked by hand),
    // filed hours to days apart.
    let pairs = csv_rows(&out.join("pairs.csv"));
    let stories = csv_rows(&out.join("stories.csv"));
    let story_of = |id: &str| stories.iter().find(|r| r[1] == id).map(|r| r[0].clone());
    for (a, b) in [("1014", "906"), ("10265", "10352"), ("10266", "10353")] {
        let row = pairs
            .iter()
            .find(|r| r[0] == a && r[1] == b)
            .unwrap_or_else(|| panic!("{a}-{b} not reported"));
        assert_eq!(row[2], "rerun");
        assert_eq!(row[3], "1.0000");
        assert!(story_of(a).is_some());
        assert_eq!(story_of(a), story_of(b));
    }
    // The updated version of the Taiwan textile story is an excerpt of the same story.
    let row = pairs
        .iter()
        .find(|r| r[0] == "1002" && r[1] == "891")
        .expect("1002-891");
    assert_eq!(row[2], "excerpt");
    assert_eq!(story_of("1002"), story_of("891"));
    // The earlier filing is the origin.
    let origin = stories
        .iter()
        .find(|r| Some(&r[0]) == story_of("906").as_ref() && r[4] == "origin")
        .unwrap();
    assert_eq!(origin[1], "906");
}
