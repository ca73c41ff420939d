//! The audit log in people's words: links, problems, progress and double coding named by their forms,
//! units, areas and people, and the command line called 命令行, never the codes stored.

use crate::browser_staff::create_named;
use crate::helpers::{TestApp, attrs, texts};
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

#[tokio::test]
async fn the_audit_log_names_forms_units_areas_and_people_instead_of_codes() {
    let app = TestApp::spawn().await;
    let (_, m, _) = crate::register::published_measure(&app).await;
    create_named(&app, "judge", "裁决人老王", Role::Analyst).await;
    let judge = app.store().user_by_name("judge").await.unwrap().unwrap().id;
    let cli = Actor::system("cli");
    app.store().create_link("zhengqiu", "sfs-qingxi", Some("qz"), "海报", &cli).await.unwrap();
    app.store().set_double_coding("zhengqiu", 20, 7, Some(judge), &cli).await.unwrap();

    let (admin, _) = app.login_as(Role::Admin).await;
    let html = admin.get(app.url("/w/admin/audit")).send().await.unwrap().text().await.unwrap();
    let actions = attrs(&html, "#audit td.action", "data-action");
    let (actors, afters) = (texts(&html, "#audit td.actor"), texts(&html, "#audit td.after"));
    let row = |action: &str| {
        let i = actions.iter().position(|a| a == action).unwrap_or_else(|| panic!("no {action} in {actions:?}"));
        (actors[i].clone(), afters[i].clone())
    };
    assert_eq!(
        row("link_created"),
        ("命令行".to_owned(), "表单：分析检查阶段征求意见表；单位：清溪镇司法所；身份：社会群众".to_owned())
    );
    assert_eq!(row("double_coding_set").1, "抽样 20%，裁决人：裁决人老王");
    assert_eq!(row("measure_progress").1, "2026-11-20：已在三个窗口试行，见办件台账");
    let problem = row("problem_created").1;
    assert!(problem.starts_with("窗口办事效率低（方面："), "{problem}");
    assert!(problem.contains("6 服务基层") && problem.contains("7 工作效能"), "{problem}");
    assert!(!html.contains("progress:"), "no raw progress entry in the page (measure {m})");
}
