//! The `rapport` command: `serve` (the default), `migrate`, `openapi`,
//! `users create`, `loyalty expire`, `insights refresh`.

use std::{io::BufRead, process::ExitCode};

use rapport::{
    app,
    auth::{Role, password::password_problem},
    config::Settings,
    db::Db,
    insights, loyalty, openapi, telemetry,
    users::repo::{self, NewUser},
};

const USAGE: &str = "usage:
  rapport [serve]                         run the API server
  rapport migrate                         migrate the database and exit
  rapport openapi                         print the OpenAPI document
  rapport openapi routes                  print the README's route table
  rapport loyalty expire                  expire loyalty points past their expiry
                                          date (the server also does it hourly)
  rapport insights refresh                recompute every customer's insights (the
                                          server also does it hourly)
  rapport users create --email E --role R [--name N]
                                          create a user; the password comes from
                                          RAPPORT_USER_PASSWORD or the first line of stdin";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        [] | ["serve"] => run(serve()),
        ["migrate"] => run(migrate()),
        ["openapi"] => {
            print!("{}", openapi::document_json());
            Ok(())
        }
        ["openapi", "routes"] => {
            print!("{}", openapi::routes_markdown());
            Ok(())
        }
        ["users", "create", rest @ ..] => run(create_user(rest)),
        ["loyalty", "expire"] => run(expire_loyalty_points()),
        ["insights", "refresh"] => run(refresh_insights()),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rapport: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(future: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    actix_web::rt::System::new().block_on(future)
}

fn settings() -> Result<Settings, String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    telemetry::init(&settings.log_filter, settings.log_json);
    Ok(settings)
}

async fn serve() -> Result<(), String> {
    let settings = settings()?;
    let running = app::start(settings.clone())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(listen = %settings.listen, port = running.port, "Rapport is serving; API docs at /docs");
    println!(
        "Rapport listening on http://{}:{}/ (docs at /docs)",
        settings.listen.ip(),
        running.port
    );
    // actix-web finishes in-flight requests on SIGTERM (up to 30 s) before it returns.
    running.server.await.map_err(|e| e.to_string())?;
    running.db.close().await;
    Ok(())
}

async fn migrate() -> Result<(), String> {
    let settings = settings()?;
    let db = Db::connect(&settings.database_url, 1)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    insights::activity::build_if_needed(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!("the database is migrated");
    Ok(())
}

async fn expire_loyalty_points() -> Result<(), String> {
    let settings = settings()?;
    let db = Db::connect(&settings.database_url, 1)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let report = loyalty::expire_due_points(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "expired {} points in {} lots of {} members",
        report.points, report.lots, report.members
    );
    Ok(())
}

async fn refresh_insights() -> Result<(), String> {
    let settings = settings()?;
    let db = Db::connect(&settings.database_url, 2)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let report = insights::refresh::refresh_all(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "recomputed the insights of {} accounts and {} contacts in {:.1} s",
        report.accounts,
        report.contacts,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn create_user(args: &[&str]) -> Result<(), String> {
    let mut email = None;
    let mut role = None;
    let mut name = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match *flag {
            "--email" => email = Some(value.to_string()),
            "--role" => {
                role = Some(Role::parse(value).ok_or_else(|| {
                    format!("unknown role {value:?}: use admin, manager, agent or viewer")
                })?)
            }
            "--name" => name = Some(value.to_string()),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let email = email.ok_or_else(|| format!("--email is required\n{USAGE}"))?;
    let role = role.ok_or_else(|| format!("--role is required\n{USAGE}"))?;
    let password = match std::env::var("RAPPORT_USER_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if let Some(problem) = password_problem(&password) {
        return Err(format!("the password {problem}"));
    }
    let settings = settings()?;
    let db = Db::connect(&settings.database_url, 1)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let display_name =
        name.unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
    let user = repo::create(
        &db,
        &rapport::audit::Actor::system(),
        NewUser {
            email: &email,
            display_name: &display_name,
            role,
            password: &password,
            active: true,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "created user {} ({}) with id {}",
        user.email, user.role, user.id
    );
    Ok(())
}
