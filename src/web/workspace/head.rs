//! The one header every staff page shows: where you are, what your role may open, who you are, 退出.

use crate::web::auth::Staff;

/// What the shared header (`staff_header.html`) needs; every staff page holds one as `head`.
#[derive(Clone, Debug)]
pub struct StaffHead {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_tag: bool,
    pub can_download: bool,
    pub can_admin: bool,
}

impl Staff {
    /// The shared header for this staff member.
    pub fn head(&self) -> StaffHead {
        let (staff, r) = (self, self.user.role);
        StaffHead {
            name: staff.user.display_name.clone(),
            role: r.label(),
            csrf: staff.csrf.clone(),
            can_tag: r.can_tag(),
            can_download: r.can_download(),
            can_admin: r.can_admin(),
        }
    }
}
