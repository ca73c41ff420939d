//! Small shared pages (messages, errors) and the template helpers they use.

use askama::Template;

/// A page with one message, used for errors and simple notices.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub message: String,
    pub back: Option<String>,
    /// The staff header, when a signed-in staff member reads the message.
    pub head: Option<crate::web::workspace::head::StaffHead>,
    /// What a refused citizen typed (question, text), shown back to copy: nothing typed is lost.
    pub kept: Vec<(String, String)>,
}

impl MessagePage {
    /// Renders to a string; rendering a fixed template cannot fail in practice.
    pub fn render_string(&self) -> String {
        self.render().unwrap_or_else(|_| "出错了".to_owned())
    }
}
