//! The labelled starter corpus shipped in `forms/corpus-*.txt`: one opinion a line, `codes text`.

use crate::domain::area::AreaCode;

/// One labelled opinion: the text, its areas and how much it counts in training.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub areas: Vec<AreaCode>,
    /// How many times the example counts (a confirmed tag may count more than a shipped line).
    pub weight: u32,
}

/// Parses one corpus file: `# comments`, blank lines, and `1,8 意见原文` lines.
///
/// # Errors
/// The first bad line, with its number and what is wrong.
pub fn parse(text: &str) -> Result<Vec<Example>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let n = i + 1;
        let (codes, body) = line.split_once(' ').ok_or_else(|| format!("第 {n} 行：缺少领域代码和空格"))?;
        let mut areas = Vec::new();
        for c in codes.split(',') {
            let v: i64 = c.trim().parse().map_err(|_| format!("第 {n} 行：领域代码 {c} 不是数字"))?;
            areas.push(AreaCode::try_from(v).map_err(|e| format!("第 {n} 行：{e}"))?);
        }
        areas.sort();
        areas.dedup();
        let body = body.trim();
        if body.is_empty() {
            return Err(format!("第 {n} 行：没有意见原文"));
        }
        out.push(Example { text: body.to_owned(), areas, weight: 1 });
    }
    Ok(out)
}

/// Whether an example belongs to the fixed held-out quarter the shipped model never trains on: decided by
/// a hash of its text, so it does not move when lines are added, removed or reordered.
pub fn held_out(text: &str) -> bool {
    fnv1a(text.as_bytes()).is_multiple_of(4)
}

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between Rust releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Splits examples into (training, held-out).
pub fn split(all: Vec<Example>) -> (Vec<Example>, Vec<Example>) {
    all.into_iter().partition(|e| !held_out(&e.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_gives_its_areas_and_text() {
        let got = parse("# 注释\n\n8,1 党员学习走过场\n").unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].areas.iter().map(|a| a.get()).collect::<Vec<_>>(), vec![1, 8]);
        assert_eq!(got[0].text, "党员学习走过场");
    }

    #[test]
    fn a_bad_code_names_the_line() {
        let e = parse("1 好\n9 坏\n").unwrap_err();
        assert!(e.contains("第 2 行") && e.contains('9'), "{e}");
        assert!(parse("x 文本").unwrap_err().contains("不是数字"));
        assert!(parse("3").unwrap_err().contains("第 1 行"));
    }
}
