//! The one public door into the stores from outside the service layer: the operator's
//! bootstrap and the test harness create areas, organisations, users and their credentials
//! with these. Nothing here reads case content.

pub use super::db::directory::{
    Area, Organisation, UserRecord, insert_area, insert_user, save_organisation, set_password,
    set_totp,
};
pub use super::db::sessions::{create_session, insert_token};
