//! The audit log as people read it: each action named in Chinese, its target and its before/after values
//! as short text (area names, state labels, an export's settings), never raw codes or JSON.

use crate::domain::tagging::OpinionState;
use crate::export::ExportParams;
use crate::store::audit::AuditEntry;
use crate::web::state::LoadedForms;
use std::collections::HashMap;

/// Every action the log records, with its Chinese name, in the order the audit page's filter offers them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("sign_in", "登录"),
    ("sign_out", "退出登录"),
    ("sign_in_failed", "登录失败"),
    ("sign_in_throttled", "登录尝试过多，已暂停"),
    ("user_created", "创建账号"),
    ("user_disabled", "停用账号"),
    ("user_enabled", "启用账号"),
    ("password_reset", "重置密码"),
    ("tags_changed", "修改领域归类"),
    ("tags_changed_bulk", "批量修改领域归类"),
    ("state_changed", "修改意见状态"),
    ("representative_changed", "标记典型意见"),
    ("note_added", "添加备注"),
    ("keyword_added", "补充关键词"),
    ("double_coding_set", "设置双人归类"),
    ("coding_recorded", "双人归类：提交一份独立归类"),
    ("coding_agreed", "双人归类一致，确定领域"),
    ("coding_adjudicated", "裁决归类分歧"),
    ("link_created", "创建发放链接"),
    ("link_revoked", "停用发放链接"),
    ("link_enabled", "重新启用发放链接"),
    ("access_codes_issued", "发放填写码"),
    ("access_codes_dropped", "不再要求填写码"),
    ("contacts_viewed", "查看群众留下的联系方式"),
    ("contact_deleted", "删除一条联系方式"),
    ("contacts_deleted", "删除一个表单的全部联系方式"),
    ("contacts_erased", "删除的联系方式已从数据库文件中清除"),
    ("export_requested", "导出（受保护）"),
    ("export_unprotected", "导出完整数据（未保护）"),
    ("download", "下载导出文件"),
    ("register_export", "下载整改台账"),
    ("forms_reloaded", "重新加载表单"),
    ("forms_reload_refused", "表单有错误，未重新加载"),
    ("secret_fingerprint_forgotten", "清除链接密钥指纹（命令行）"),
    ("secret_replaced", "密钥遗失后换用新密钥，旧链接和填写码失效（命令行）"),
    ("problem_created", "新建问题"),
    ("problem_updated", "修改问题"),
    ("problem_linked", "意见归入问题"),
    ("problem_unlinked", "意见移出问题"),
    ("problem_merged", "问题合并"),
    ("measure_created", "起草整改措施"),
    ("measure_updated", "修改整改措施"),
    ("measure_published", "公开整改措施"),
    ("measure_withdrawn", "撤回公开"),
    ("measure_progress", "记录整改进展"),
];

/// The Chinese name of an audit action; older spellings read as today's, an unknown action as stored.
pub fn action_label(action: &str) -> &str {
    let action = match action {
        "user_password_reset" => "password_reset",
        "export" => "export_requested",
        other => other,
    };
    ACTIONS.iter().find(|(code, _)| *code == action).map_or(action, |(_, label)| label)
}

/// The target (`opinion:12`, `user:li`, `link:3`, `export:5`, `area:2`, `forms`) in words.
pub fn target_text(target: &str, forms: &LoadedForms) -> String {
    let Some((kind, id)) = target.split_once(':') else {
        return match target {
            "forms" => "表单目录".to_owned(),
            "register" => "整改台账".to_owned(),
            "secret" => "链接密钥".to_owned(),
            "contacts" => "联系方式".to_owned(),
            _ => target.to_owned(),
        };
    };
    match kind {
        "opinion" => format!("意见 {id}"),
        "user" => format!("账号 {id}"),
        "link" => format!("链接 {id}"),
        "contact" => format!("联系方式 {id}"),
        "export" => format!("导出 {id}"),
        "area" => format!("领域 {}", area_text(id, forms)),
        "problem" => format!("问题 {id}"),
        "measure" => format!("整改措施 {id}"),
        "form" => format!("表单 {}", forms.form_title(id)),
        "file" => format!("文件 {id}"),
        _ => target.to_owned(),
    }
}

/// Who did it: a person's name as recorded; the command line and first set-up in words (not a name typed at
/// sign-in, which may be anything).
pub fn actor_text(e: &AuditEntry) -> String {
    match (e.actor_id, e.actor_name.as_str()) {
        (None, "cli") if !e.action.starts_with("sign_in") => "命令行".to_owned(),
        (None, "setup") if !e.action.starts_with("sign_in") => "首次设置".to_owned(),
        (_, name) => name.to_owned(),
    }
}

/// A before or after value of `action` in words; `users` gives accounts' display names by id.
pub fn value_text(action: &str, value: &str, forms: &LoadedForms, users: &HashMap<i64, String>) -> String {
    match action {
        "access_codes_issued" | "access_codes_dropped" => match value {
            "open" => "不需要填写码".to_owned(),
            "codes" => "凭码填写".to_owned(),
            v => v.strip_prefix("codes +").map_or_else(|| v.to_owned(), |n| format!("凭码填写，新发 {n} 个码")),
        },
        "coding_recorded" if value.starts_with("slot=") => format!("第 {} 份编码", &value[5..]),
        "coding_adjudicated" if value.starts_with("slot1 ") => coders_text(value, forms),
        "double_coding_set" => double_coding_text(value, users),
        "link_created" => link_text(value, forms),
        "measure_progress" => progress_text(value),
        "problem_created" | "problem_updated" | "problem_merged" if !value.starts_with("problem:") => {
            problem_text(value, forms)
        }
        "tags_changed" | "tags_changed_bulk" | "coding_recorded" | "coding_agreed" | "coding_adjudicated" => {
            areas_list_text(value, forms)
        }
        "state_changed" => OpinionState::parse(value).map_or_else(|| value.to_owned(), |s| s.label().to_owned()),
        "representative_changed" => match value {
            "true" => "典型意见".to_owned(),
            "false" => "非典型".to_owned(),
            other => other.to_owned(),
        },
        "note_added" => value.strip_prefix("note:").map_or_else(|| value.to_owned(), |n| format!("备注 {n}")),
        "export" | "export_requested" | "export_unprotected" => export_text(value, forms),
        "contacts_viewed" | "contact_deleted" | "contacts_deleted" => match value.parse::<u64>() {
            Ok(n) => format!("{n} 条"),
            Err(_) => format!("表单 {}", forms.form_title(value)),
        },
        // The horizon a start compares deletions with: nothing for a reader.
        "contacts_erased" => String::new(),
        "forms_reload_refused" => value.replace(" problem(s)", " 处错误"),
        "problem_merged" if value.starts_with("problem:") => format!("并入问题 {}", &value[8..]),
        "problem_linked" | "problem_unlinked" => {
            let ids = value.strip_prefix("opinions:").or_else(|| value.strip_prefix("opinion:"));
            ids.map_or_else(|| value.to_owned(), |l| format!("意见 {}", l.replace(',', "、")))
        }
        _ => plain_text(value),
    }
}

/// Double coding's settings (`percent=20 adjudicator=3`, `-` for none) with the adjudicator's name.
fn double_coding_text(value: &str, users: &HashMap<i64, String>) -> String {
    let field = |k: &str| value.split(' ').find_map(|p| p.strip_prefix(k));
    let (Some(percent), Some(judge)) = (field("percent="), field("adjudicator=")) else {
        return value.to_owned();
    };
    let judge = match judge.parse::<i64>() {
        Ok(id) => format!("裁决人：{}", users.get(&id).map_or_else(|| format!("账号 {id}"), Clone::clone)),
        Err(_) => "未指定裁决人".to_owned(),
    };
    format!("抽样 {percent}%，{judge}")
}

/// What a link is bound to (`form/unit` or `form/unit/category`) in names.
fn link_text(value: &str, forms: &LoadedForms) -> String {
    let mut parts = value.splitn(3, '/');
    let (Some(form), Some(unit)) = (parts.next(), parts.next()) else {
        return value.to_owned();
    };
    let mut text = format!("表单：{}；单位：{}", forms.form_title(form), forms.unit_name(Some(unit)));
    if let Some(c) = parts.next() {
        text.push_str(&format!("；身份：{}", forms.category_label(form, Some(c))));
    }
    text
}

/// A progress entry (`progress:ID DATE EVIDENCE`) as its date and what was done.
fn progress_text(value: &str) -> String {
    let rest = value.strip_prefix("progress:").and_then(|v| v.split_once(' ')).map(|(_, rest)| rest);
    match rest.and_then(|r| r.split_once(' ')) {
        Some((on, evidence)) => format!("{on}：{evidence}"),
        None => value.to_owned(),
    }
}

/// A problem as logged (`TITLE [7,8]`, then for a merge its other facts on further lines) with area names.
fn problem_text(value: &str, forms: &LoadedForms) -> String {
    let (first, more) = value.split_once('\n').map_or((value, None), |(f, m)| (f, Some(m)));
    let Some((title, codes)) = first.strip_suffix(']').and_then(|f| f.rsplit_once(" [")) else {
        return value.to_owned();
    };
    let head = format!("{title}（方面：{}）", areas_list_text(codes, forms));
    match more {
        Some(m) => format!("{head}\n{m}"),
        None => head,
    }
}

/// A comma-separated list of area codes in words; an empty list is "（无）".
fn areas_list_text(codes: &str, forms: &LoadedForms) -> String {
    if codes.is_empty() {
        return "（无）".to_owned();
    }
    codes.split(',').map(|a| area_text(a, forms)).collect::<Vec<_>>().join("、")
}

/// Both codings an adjudication decided between (`slot1 li: 1,3; slot2 wang: 2`) in words.
fn coders_text(value: &str, forms: &LoadedForms) -> String {
    let coding = |part: &str| {
        let (who, codes) = part.split_once(": ").unwrap_or((part, ""));
        let who = who.trim().strip_prefix("slot1 ").or_else(|| who.trim().strip_prefix("slot2 ")).unwrap_or(who);
        format!("{who}：{}", areas_list_text(codes, forms))
    };
    value.split("; ").map(coding).collect::<Vec<_>>().join("；")
}

fn area_text(code: &str, forms: &LoadedForms) -> String {
    let name = code.trim().parse::<i64>().ok().and_then(|n| crate::domain::area::AreaCode::try_from(n).ok());
    match name {
        Some(a) => format!("{} {}", a.get(), forms.catalog.areas.name(a)),
        None => code.to_owned(),
    }
}

/// The words for the few plain values the log stores (`active`, `role=admin`, `count=3`).
fn plain_text(value: &str) -> String {
    match value {
        "active" | "active=true" => return "启用".to_owned(),
        "disabled" | "active=false" => return "已停用".to_owned(),
        "revoked" => return "已停用".to_owned(),
        _ => {}
    }
    match value.split_once('=') {
        Some(("role", r)) => {
            let role = r.parse::<crate::domain::user::Role>().map_or_else(|_| r.to_owned(), |x| x.label().to_owned());
            format!("角色：{role}")
        }
        Some(("count", n)) => format!("次数：{n}"),
        _ => value.to_owned(),
    }
}

/// An export's settings (stored as JSON) as one line of text.
fn export_text(json: &str, forms: &LoadedForms) -> String {
    let Ok(p) = serde_json::from_str::<ExportParams>(json) else {
        return json.to_owned();
    };
    let titles: Vec<String> = p.scope.forms.iter().map(|f| forms.form_title(f)).collect();
    let mut parts = vec![
        format!("表单：{}", titles.join("、")),
        format!("格式：{}", p.format.extension().to_uppercase()),
        if p.unprotected {
            "完整数据（未保护）".to_owned()
        } else {
            format!("受保护（少于 {} 份合并）", p.small_cell_k)
        },
    ];
    match (p.scope.from, p.scope.to) {
        (None, None) => {}
        (from, to) => parts.push(format!(
            "日期：{} 至 {}",
            from.map_or("最早".to_owned(), |d| d.to_string()),
            to.map_or("最新".to_owned(), |d| d.to_string())
        )),
    }
    if !p.scope.units.is_empty() {
        let units: Vec<String> = p.scope.units.iter().map(|u| forms.unit_name(Some(u.as_str()))).collect();
        parts.push(format!("单位：{}", units.join("、")));
    }
    parts.join("；")
}
