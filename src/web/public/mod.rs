//! The citizens' side: the form page, submission, the receipt, and the QR codes of distribution links.

pub mod form;
pub mod gongkai;
pub mod submit;
