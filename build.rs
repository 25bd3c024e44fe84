//! Maps every HTTP handler (an OpenAPI `operationId` is its function's
//! name) to the file that defines it, for the README's route table
//! (`src/openapi/routes_table.rs`).

use std::{env, fs, path::Path};

const ROUTE_ATTRIBUTES: [&str; 5] = ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("];

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut handlers = Vec::new();
    visit(Path::new("src"), &mut handlers);
    handlers.sort();
    let mut out = String::from("pub const HANDLER_FILES: &[(&str, &str)] = &[\n");
    for (name, file) in handlers {
        out.push_str(&format!("    ({name:?}, {file:?}),\n"));
    }
    out.push_str("];\n");
    let dest =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("handler_files.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}

fn visit(dir: &Path, handlers: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, handlers);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !ROUTE_ATTRIBUTES
                    .iter()
                    .any(|a| line.trim_start().starts_with(a))
                {
                    continue;
                }
                let name = lines[i + 1..].iter().take(3).find_map(|l| {
                    let rest = l.split("async fn ").nth(1)?;
                    Some(rest.split('(').next()?.trim().to_string())
                });
                if let Some(name) = name {
                    handlers.push((name, path.display().to_string().replace('\\', "/")));
                }
            }
        }
    }
}
