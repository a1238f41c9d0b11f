use std::path::Path;
fn main() {
    let micros = std::env::var("MICROS_SRC").unwrap();
    let nixpkgs = std::env::var("MICROS_NIXPKGS").unwrap();
    let req =
        micros_options::sources::micros_request(Path::new(&micros), Some(Path::new(&nixpkgs)))
            .unwrap();
    let t = std::time::Instant::now();
    let ex = micros_options::extract(&req);
    eprintln!("{:?}", t.elapsed());
    for d in &ex.diagnostics {
        eprintln!("{d}");
    }
    print!("{}", micros_options::json::to_json(&ex.options, true));
}
