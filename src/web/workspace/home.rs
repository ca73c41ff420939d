//! `GET /w`: the workspace start page, showing what the signed-in role can do.

use crate::web::auth::Staff;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_tag: bool,
    pub can_download: bool,
    pub can_admin: bool,
}

/// `GET /w`.
pub async fn page(staff: Staff) -> HomePage {
    let r = staff.user.role;
    HomePage { head: staff.head(),
        name: staff.user.display_name.clone(),
        role: r.label(),
        csrf: staff.csrf.clone(),
        can_tag: r.can_tag(),
        can_download: r.can_download(),
        can_admin: r.can_admin(),
    }
}
