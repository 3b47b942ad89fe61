//! `quietwire-test-vectors`: writes or checks the golden vector files.
//!
//! ```text
//! cargo run -p quietwire-test-vectors -- generate   # rewrite test-vectors/v1/*.json
//! cargo run -p quietwire-test-vectors -- check      # exit 1 if any file differs
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let files = match quietwire_test_vectors::generate_all() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("generation failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = root().join(quietwire_test_vectors::VECTOR_DIR);
    match mode.as_str() {
        "generate" => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("cannot create {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            for file in &files {
                let path = dir.join(&file.name);
                if let Err(e) = std::fs::write(&path, &file.contents) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        "check" => {
            let mut stale = 0;
            for file in &files {
                let path = dir.join(&file.name);
                match std::fs::read_to_string(&path) {
                    Ok(text) if text == file.contents => println!("ok      {}", file.name),
                    Ok(_) => {
                        stale += 1;
                        println!("DIFFERS {}", file.name);
                    }
                    Err(e) => {
                        stale += 1;
                        println!("MISSING {} ({e})", file.name);
                    }
                }
            }
            if stale == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{stale} file(s) differ from the generator: run `cargo run -p quietwire-test-vectors -- generate`"
                );
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: quietwire-test-vectors generate|check");
            ExitCode::from(2)
        }
    }
}
