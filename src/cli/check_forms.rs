//! `wenji check-forms`: the same checks as at start-up; non-zero exit on any problem. Where the database is
//! found (run in the server's folder), the forms are also checked against the answers stored: a scale
//! whose grades moved once answered is refused here as `serve` would refuse to start.

use crate::config::Config;
use std::process::ExitCode;

pub async fn run(config: &Config) -> ExitCode {
    match crate::forms_dir::load(&config.forms_dir) {
        Ok(cat) => {
            if !compared_with_stored_answers(config, &cat).await {
                return ExitCode::FAILURE;
            }
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

/// Whether `cat` keeps the meaning of the answers stored in the configured database, the problems said on
/// standard error. No database here (a check before the first start, or on another machine) is said, not
/// failed; a database named but not reached fails, as `serve` would.
async fn compared_with_stored_answers(config: &Config, cat: &crate::domain::catalog::Catalog) -> bool {
    let store = match super::open_existing(config).await {
        Ok(store) => store,
        Err(e) if config.sqlite_path().is_some_and(|p| !p.exists()) => {
            println!("(not compared with stored answers: {e:#})");
            return true;
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return false;
        }
    };
    match store.meaning_lost_in(cat).await {
        Ok(moved) if moved.is_empty() => true,
        Ok(moved) => {
            for m in &moved {
                eprintln!("error: {m}");
            }
            eprintln!(
                "{} problem(s) found: the forms folder changes what stored answers mean; put the grades or the files back (`wenji serve` would not start)",
                moved.len()
            );
            false
        }
        Err(e) => {
            eprintln!("error: the stored answers could not be compared with these forms: {e}");
            false
        }
    }
}
