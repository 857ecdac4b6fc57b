//! The one error type of the store. It says what went wrong in terms a caller can act on
//! (a conflict is a 409 to the admin API, anything else is a server fault); it must not carry
//! a connection URL, which may hold a password.

/// Shorthand for the store's results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no engine this store knows.
    #[error("unsupported store url scheme {scheme:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl { scheme: String },

    /// The folder for the SQLite file could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },

    /// The database could not be reached or opened.
    #[error("cannot open the {engine} store: {source}")]
    Open {
        engine: &'static str,
        source: sqlx::Error,
    },

    #[error("cannot migrate the store: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    /// A row with the same identity already exists (`what` names it, e.g. `credential openai/main`).
    #[error("{what} already exists")]
    Conflict { what: String },

    #[error("store query failed: {0}")]
    Database(#[from] sqlx::Error),

    /// A stored JSON array (models, labels) did not parse: the row was written by something else.
    #[error("column {column} holds invalid JSON: {source}")]
    Json {
        column: &'static str,
        source: serde_json::Error,
    },

    /// A stored number does not fit the domain type (a negative token count, say).
    #[error("column {column} holds {value}, out of range")]
    OutOfRange { column: &'static str, value: i64 },
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `what`, and any
    /// other error to [`StoreError::Database`].
    pub(crate) fn conflict_or(err: sqlx::Error, what: impl FnOnce() -> String) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict { what: what() }
            }
            _ => StoreError::Database(err),
        }
    }
}
