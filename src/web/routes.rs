//! Every page route, in one table: the router is built from it, and the access-matrix test
//! reads it (with the OpenAPI document for the API) to check that every route has a row.

use axum::Router;
use axum::extract::DefaultBodyLimit;

use super::{UPLOAD_LIMIT, pages};
use crate::state::AppState;

/// Declares the page routes: `"path" => get(handler).post(handler) [, layer(layer)];`.
macro_rules! page_routes {
    ($( $path:literal => $m0:ident($h0:expr) $(. $m:ident($h:expr))* $(, layer($l:expr))? ;)*) => {
        /// Every page route: its path template and methods (lower case).
        pub const PAGE_ROUTES: &[(&str, &[&str])] = &[
            $( ($path, &[stringify!($m0) $(, stringify!($m))*]) ),*
        ];

        /// The pages, as a router.
        pub fn pages() -> Router<AppState> {
            Router::new()
                $( .route($path, axum::routing::$m0($h0) $(.$m($h))* $(.layer($l))? ) )*
        }
    };
}

/// The routes outside the page table and the API document (served by `build_router`).
pub const OTHER_ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/openapi.json", &["get"]),
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
];

page_routes! {
    "/" => get(pages::home::home);
    "/sign-in" => get(pages::auth::sign_in_form).post(pages::auth::sign_in);
    "/sign-in/mfa" => get(pages::auth::mfa_form).post(pages::auth::mfa);
    "/sign-in/mfa/setup" => get(pages::auth::mfa_setup_form).post(pages::auth::mfa_setup);
    "/sign-out" => post(pages::auth::sign_out);
    "/invitation/{token}" => get(pages::auth::invitation_form).post(pages::auth::invitation);
    "/account" => get(pages::account::show);
    "/account/tokens" => post(pages::account::create_token);
    "/account/tokens/{id}/revoke" => post(pages::account::revoke_token);
    "/admin/areas" => get(pages::admin::areas);
    "/admin/areas/new" => get(pages::admin::new_area).post(pages::admin::create_area);
    "/admin/areas/{id}" => get(pages::admin::edit_area).post(pages::admin::update_area);
    "/admin/organisations" => get(pages::admin::organisations);
    "/admin/organisations/new" => get(pages::admin::new_organisation).post(pages::admin::create_organisation);
    "/admin/organisations/{id}" => get(pages::admin::edit_organisation).post(pages::admin::update_organisation);
    "/admin/users" => get(pages::admin::users);
    "/admin/users/new" => get(pages::admin::new_user).post(pages::admin::create_user);
    "/admin/users/{id}" => get(pages::admin::edit_user).post(pages::admin::update_user);
    "/admin/users/{id}/invitation" => post(pages::admin::reinvite_user);
    "/admin/users/{id}/reset-mfa" => post(pages::admin::reset_mfa);
    "/audit" => get(pages::audit::search);
    "/audit/verify" => get(pages::audit::verify);
    "/audit/export.csv" => get(pages::audit::export);
    "/reports" => get(pages::reports::list);
    "/reports/new" => get(pages::reports::new_report).post(pages::reports::choose_kind);
    "/reports/new/incident" => get(pages::incident_steps::new_incident).post(pages::incident_steps::post_incident);
    "/reports/new/person-concern" => get(pages::reports::new_person_concern).post(pages::reports::post_person_concern);
    "/reports/{id}" => get(pages::reports::show);
    "/reports/{id}/amendments" => post(pages::reports::amend);
    "/reports/{id}/messages" => post(pages::reports::message);
    "/reports/{id}/attachments" => post(pages::reports::upload), layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    "/reports/{id}/attachments/{attachment_id}" => get(pages::reports::attachment);
    "/returns" => get(pages::returns::list);
    "/returns/{year}/{quarter}" => get(pages::returns::form).post(pages::returns::file);
    "/cases/{id}/share" => get(pages::sharing::form).post(pages::sharing::submit);
    "/shares/pending" => get(pages::sharing::pending);
    "/shares/late" => get(pages::sharing::late);
    "/shares/{id}" => get(pages::sharing::approval);
    "/shares/{id}/approve" => post(pages::sharing::approve);
    "/shares/{id}/revoke" => post(pages::sharing::revoke);
    "/shares/{id}/decline" => post(pages::cases::decline_share);
    "/alerts" => get(pages::alerts::list);
    "/alerts/{id}" => get(pages::alerts::show);
    "/alerts/{id}/acknowledge" => post(pages::alerts::acknowledge);
    "/alerts/{id}/responses" => post(pages::alerts::respond);
    "/alerts/{id}/attachments/{attachment_id}" => get(pages::alerts::attachment);
    "/alerts/{id}/conversation" => get(pages::conversation::show);
    "/alerts/{id}/replies" => post(pages::conversation::reply);
    "/accessibility" => get(pages::info::accessibility);
    "/privacy" => get(pages::info::privacy);
    "/help" => get(pages::info::help);
    "/api/docs" => get(super::api::docs::page_handler);
    "/cases" => get(pages::cdao::cases);
    "/cases.csv" => get(pages::cdao::cases_csv);
    "/cases/{id}" => get(pages::cases::show);
    "/cases/{id}/triage" => post(pages::cases::triage);
    "/cases/{id}/messages" => post(pages::cases::message);
    "/cases/{id}/links" => post(pages::cases::link);
    "/cases/{id}/close" => post(pages::cases::close);
    "/cases/{id}/reopen" => post(pages::cases::reopen);
    "/cases/{id}/access-requests" => post(pages::cases::request_access);
    "/cases/{id}/attachments/{attachment_id}" => get(pages::cases::attachment);
    "/cases/{id}/attachments/{attachment_id}/patient-data" => post(pages::cases::mark_attachment);
    "/access-requests" => get(pages::cdao::access_requests);
    "/access-requests/{id}/decide" => post(pages::cdao::decide);
    "/subject-access" => get(pages::rights::form).post(pages::rights::submit);
    "/subject-access/{id}/download" => get(pages::rights::download);
    "/cases/{id}/persons/{person_id}/erasure" => post(pages::rights::request_erasure);
    "/erasures/{id}/approve" => post(pages::rights::approve_erasure);
    "/erasures/{id}/decline" => post(pages::rights::decline_erasure);
    "/sign-in/forgotten" => get(pages::auth::forgotten_form).post(pages::auth::forgotten);
    "/reset-password/{token}" => get(pages::auth::reset_form).post(pages::auth::reset);
    "/account/password" => get(pages::account::password_form).post(pages::account::change_password);
    "/account/recovery-codes" => post(pages::account::regenerate_recovery_codes);
    "/account/sessions/sign-out-others" => post(pages::account::end_other_sessions);
    "/account/sessions/{id}/sign-out" => post(pages::account::end_session);
    "/admin/users/{id}/unlock" => post(pages::admin::unlock_user);
    "/users/pending" => get(pages::admin::pending);
    "/users/{id}/approve" => post(pages::admin::approve_user);
    "/statistics" => get(pages::stats::statistics);
    "/statistics.csv" => get(pages::stats::csv);
    "/statistics/online-prescribing" => get(pages::oversight::online_prescribing);
    "/statistics/cbpm" => get(pages::oversight::cbpm);
    "/statistics/cdlo" => get(pages::oversight::cdlo);
    "/statistics/cdlo.csv" => get(pages::oversight::cdlo_csv);
    "/statistics/opioids" => get(pages::oversight::opioids);
    "/statistics/opioids.csv" => get(pages::oversight::opioids_csv);
    "/statistics/opioids/initiatives" => post(pages::oversight::record_initiative);
    "/prescribers" => get(pages::prescribers::search_form).post(pages::prescribers::search);
    "/prescribers/{kind}/{digest}" => get(pages::prescribers::show);
    "/cases/{id}/prescriber" => get(pages::prescribers::from_case);
}
