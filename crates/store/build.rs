//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the
//! folders at compile time but cannot tell cargo about files that did not exist yet.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
