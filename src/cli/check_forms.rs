//! `wenji check-forms`: the same checks as at start-up; non-zero exit on any problem.

use crate::config::Config;
use std::process::ExitCode;

pub fn run(config: &Config) -> ExitCode {
    match crate::forms_dir::load(&config.forms_dir) {
        Ok(cat) => {
            println!(
                "{}: {} forms, {} units, {} areas, {} topics: all good",
                config.forms_dir.display(),
                cat.forms.len(),
                cat.units.len(),
                cat.areas.iter().count(),
                cat.topics.len()
            );
            for f in cat.forms.values() {
                println!(
                    "  {} — {} ({} questions, version {})",
                    f.slug,
                    f.title,
                    f.questions.len(),
                    &f.version_hash()[..12]
                );
            }
            ExitCode::SUCCESS
        }
        Err(errs) => {
            for e in &errs {
                eprintln!("error: {e}");
            }
            eprintln!("{} problem(s) found", errs.len());
            ExitCode::FAILURE
        }
    }
}
