//! Customer insights: the measurements a firm reviews every quarter
//! (`/v1/metrics/customers`) and each customer's RFM scores, loyalty status
//! and churn risk (`/v1/accounts/{id}/insights`), on the purchases of
//! `transactions` and the answers of `feedback`.

pub mod activity;
pub mod customers;
pub mod customers_sql;
pub mod figures;
pub mod filter;
pub mod hooks;
pub mod model;
pub mod periods;
pub mod refresh;
pub mod risk;
pub mod routes;
pub mod rules;
pub mod scores;
pub mod settings;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(settings::configure)
        .configure(routes::configure)
        .service(customers::customer_metrics);
}
