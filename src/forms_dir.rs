//! Reads the bureau's `forms/` folder into a checked [`Catalog`].

use crate::domain::catalog::Catalog;
use crate::domain::form::FormError;
use std::path::Path;

/// Loads every `.toml` file in `dir`.
///
/// # Errors
/// Every problem found, each naming the file (with the folder), the question and the reason.
pub fn load(dir: &Path) -> Result<Catalog, Vec<FormError>> {
    let io_err = |reason: String| vec![FormError { file: dir.display().to_string(), question: None, reason }];
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(format!("无法读取表单目录：{e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_err(e.to_string()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let text = std::fs::read_to_string(&path).map_err(|e| io_err(format!("{name}: 无法读取：{e}")))?;
        files.push((name, text));
    }
    files.sort();
    Catalog::from_files(&files).map_err(|errs| {
        errs.into_iter()
            .map(|mut e| {
                e.file = dir.join(&e.file).display().to_string();
                e
            })
            .collect()
    })
}
