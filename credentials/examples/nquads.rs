fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("proof");
    let mut contexts = guildmark_credentials::Contexts::bundled();
    let dir = std::path::Path::new("/work/shared/vectors/contexts");
    contexts
        .register_index(
            &std::fs::read_to_string(dir.join("index.json")).unwrap(),
            |f| std::fs::read_to_string(dir.join(f)),
        )
        .unwrap();
    print!(
        "{}",
        guildmark_credentials::jsonld::canonical_nquads(&doc, &contexts).unwrap()
    );
}
