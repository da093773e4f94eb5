//! The markdown templates the writers fill: their prose lives in `crates/fanout/templates/`,
//! what goes in it (tables, findings, figures) comes from the code, already written. MiniJinja
//! reads them (Jinja2's syntax); a block tag's line leaves nothing behind (`trim_blocks`,
//! `lstrip_blocks`), and a name the code did not give is an error, not an empty string.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};

/// Every template, by its file name.
const TEMPLATES: &[(&str, &str)] = &[
    ("summary.md", include_str!("../../templates/summary.md")),
    ("setup.md", include_str!("../../templates/setup.md")),
];

/// The environment holding every template, read once.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, text) in TEMPLATES {
        // A template is compiled in, so one that does not parse fails every test that draws.
        env.add_template(name, text)
            .unwrap_or_else(|e| panic!("templates/{name} does not parse: {e:#}"));
    }
    env
});

/// The template `name` filled with `values`.
pub fn fill(name: &str, values: impl serde::Serialize) -> String {
    ENVIRONMENT
        .get_template(name)
        .and_then(|t| t.render(values))
        .unwrap_or_else(|e| panic!("templates/{name} cannot be filled: {e:#}"))
}

/// `text` without its last newline, where the template gives it back (a table written with
/// one).
pub fn without_last_newline(text: String) -> String {
    match text.strip_suffix('\n') {
        Some(cut) => cut.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(ENVIRONMENT.get_template(name).is_ok(), "{name}");
        }
    }
}
