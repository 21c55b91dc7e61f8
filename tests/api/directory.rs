//! Areas, organisations and users through the API and the admin pages.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn an_admin_manages_areas_organisations_and_users_through_the_api() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let area = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": "Kent", "region": "South East"}))
        .send()
        .await;
    area.assert_status(StatusCode::CREATED);
    let a = area.json();
    assert_eq!(a["name"], "Kent");
    assert_eq!(a["region"], "South East");
    let area_id = a["id"].as_str().unwrap().to_string();

    let org = app
        .post("/api/v1/organisations")
        .token(&admin)
        .json(&json!({"name": "Kent Pharmacy", "kind": "provider", "sector": "community_pharmacy", "ods_code": "fk001", "area_ids": [area_id]}))
        .send()
        .await;
    org.assert_status(StatusCode::CREATED);
    let o = org.json();
    assert_eq!(o["ods_code"], "FK001");
    assert_eq!(o["area_ids"], json!([area_id]));
    let org_id = o["id"].as_str().unwrap().to_string();

    // A provider sits in exactly one area; a sector must fit the kind.
    let r = app
        .patch(&format!("/api/v1/organisations/{org_id}"))
        .token(&admin)
        .json(&json!({"area_ids": [area_id, app.world.gm], "sector": "police"}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["sector", "area_ids"]);
    // Duplicates are named.
    let r = app
        .post("/api/v1/organisations")
        .token(&admin)
        .json(&json!({"name": "Other", "kind": "provider", "sector": "gp_practice", "ods_code": "FK001", "area_ids": [area_id]}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["ods_code"]);

    // A CDAO belongs to NHS England and holds areas; a reporter to a provider.
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "cdao.kent@nhs.net", "name": "Kent CDAO", "role": "cdao", "organisation_id": org_id}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["organisation_id", "area_ids"]);
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "cdao.kent@nhs.net", "name": "Kent CDAO", "role": "cdao", "organisation_id": app.world.nhse_nw, "area_ids": [area_id]}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let u = r.json();
    assert_eq!(u["role"], "cdao");
    assert_eq!(u["area_ids"], json!([area_id]));
    assert!(
        u["invitation_url"]
            .as_str()
            .unwrap()
            .starts_with("http://cdc.test/invitation/")
    );
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "CDAO.KENT@nhs.net", "name": "Again", "role": "auditor"}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["email"]);

    // A reporter takes their organisation's area.
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "rep.kent@nhs.net", "name": "Kent Reporter", "role": "reporter", "organisation_id": org_id, "area_ids": [app.world.gm]}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["area_ids"], json!([area_id]));

    let list = app
        .get("/api/v1/users?role=cdao")
        .token(&admin)
        .send()
        .await
        .json();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["role"] == "cdao")
    );
    let actions = app.audit_actions().await;
    for a in [
        "area.created",
        "organisation.created",
        "user.created",
        "user.invitation_issued",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} not audited");
    }
}

#[tokio::test]
async fn admin_forms_show_every_error_and_keep_what_was_typed() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let r = app
        .post("/admin/organisations/new")
        .session(&admin)
        .form(&[
            ("name", "Typed Name"),
            ("kind", "provider"),
            ("sector", "police"),
            ("ods_code", "bad code!"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("<title>Error: Add an organisation"));
    assert!(html.contains("nhsuk-error-summary"));
    for field in ["sector", "ods_code", "area_ids"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "summary links to {field}"
        );
    }
    assert!(html.contains("value=\"Typed Name\""), "input kept");
    let r = app
        .post("/admin/users/new")
        .session(&admin)
        .form(&[
            ("name", "Pat"),
            ("email", "pat@nhs.net"),
            ("role", "reporter"),
            ("organisation_id", &app.world.pharmacy_gm.to_string()),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert!(
        r.text().contains("/invitation/"),
        "the invitation link is shown"
    );
    let page = app.get("/admin/users").session(&admin).send().await.text();
    assert!(page.contains("pat@nhs.net"));
}
