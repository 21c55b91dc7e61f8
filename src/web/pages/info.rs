//! Pages every NHS service links from its footer.

use askama::Template;
use axum::response::Response;

use crate::error::AppResult;
use crate::web::layout::{Layout, for_auth};
use crate::web::pages::auth::page;
use crate::web::session::RequestAuth;

#[derive(Template)]
#[template(path = "info/accessibility.html")]
struct Accessibility {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "info/privacy.html")]
struct Privacy {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "info/help.html")]
struct Help {
    layout: Layout,
}

pub async fn accessibility(auth: RequestAuth) -> AppResult<Response> {
    page(&Accessibility {
        layout: for_auth(&auth, "Accessibility statement"),
    })
}

pub async fn privacy(auth: RequestAuth) -> AppResult<Response> {
    page(&Privacy {
        layout: for_auth(&auth, "Privacy notice"),
    })
}

pub async fn help(auth: RequestAuth) -> AppResult<Response> {
    page(&Help {
        layout: for_auth(&auth, "Help"),
    })
}
