//! The `tradelane` binary.

use clap::Parser;
use tradelane::cli::{Cli, run};

fn main() {
    tradelane::memory::limit_malloc_arenas();
    tradelane::memory::private_files();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // `tradelane shipments list | head`: the reader left; not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            tradelane::cli::exit_code(&e)
        }
    };
    std::process::exit(code);
}
