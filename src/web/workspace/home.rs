//! `GET /w`: the workspace start page, showing what the signed-in role can do.

use crate::web::auth::Staff;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    /// Name, role and what the role may open: the header and the menu show the same.
    pub head: super::head::StaffHead,
}

/// `GET /w`.
pub async fn page(staff: Staff) -> HomePage {
    HomePage { head: staff.head() }
}
