//! The documentation's examples stay true.

use adamgap::setting::Setting;

/// `docs/config.md`'s TOML block is the complete default setting.
#[test]
fn config_doc_is_the_default_setting() {
    let doc = include_str!("../docs/config.md");
    let block = doc.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
    let parsed = Setting::from_toml_str(block, "docs/config.md").expect("the documented config parses");
    assert_eq!(parsed, Setting::default());
    parsed.validate().expect("the default setting is valid");
}

/// Every optimizer's TOML `kind` is its report key, so a config round-trips by name.
#[test]
fn optimizer_kinds_are_their_keys() {
    use adamgap::setting::OptimizerSetting;
    for key in ["gd", "adam", "sign-gd", "adamw", "momentum", "rmsprop", "adagrad"] {
        let o = OptimizerSetting::default_for(key).expect("a known optimizer");
        assert_eq!(o.key(), key);
        let text = toml::to_string(&o).expect("serializes");
        assert!(text.contains(&format!("kind = \"{key}\"")), "{text}");
        let back: OptimizerSetting = toml::from_str(&text).expect("parses back");
        assert_eq!(back, o);
    }
}
