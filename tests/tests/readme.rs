//! README's promises that a test can hold: the plugin example it shows is
//! the file CI compiles (`plugin-sdk/examples/myshop.rs`, built with the
//! tests), character for character.

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_readme_plugin_example_is_the_compiled_one() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let marker = "<!-- example: plugin-sdk/examples/myshop.rs -->\n```rust\n";
    let start = readme
        .find(marker)
        .expect("README marks the example it shows")
        + marker.len();
    let end = start + readme[start..].find("```\n").expect("the block ends");
    let shown = &readme[start..end];
    let compiled = std::fs::read_to_string(root().join("plugin-sdk/examples/myshop.rs")).unwrap();
    assert_eq!(
        shown, compiled,
        "README's example differs from plugin-sdk/examples/myshop.rs: copy the file into README"
    );
}
