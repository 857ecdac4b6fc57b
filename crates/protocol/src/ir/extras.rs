//! The escape hatch: fields of one dialect that no other dialect can carry.
//!
//! Decoders put every wire field they do not map into the IR here, tagged with their dialect;
//! encoders re-emit them only when encoding back to that same dialect, so a message that goes
//! out in the dialect it came in loses nothing, and no dialect ever receives another's fields.

use serde_json::{Map, Value};

use crate::Dialect;

/// Provider fields kept verbatim for the dialect they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// The dialect the fields belong to; `None` when there are none.
    pub dialect: Option<Dialect>,
    pub fields: Map<String, Value>,
}

impl Extras {
    /// Extras from `dialect`; an empty map gives empty extras.
    pub fn new(dialect: Dialect, fields: Map<String, Value>) -> Self {
        if fields.is_empty() {
            return Self::default();
        }
        Self {
            dialect: Some(dialect),
            fields,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields to re-emit when encoding to `dialect`: all of them for the same dialect,
    /// none for any other.
    pub fn for_dialect(&self, dialect: Dialect) -> Option<&Map<String, Value>> {
        (self.dialect == Some(dialect) && !self.fields.is_empty()).then_some(&self.fields)
    }

    /// Copies this dialect's fields into `target` without overwriting fields already set there.
    pub fn merge_into(&self, dialect: Dialect, target: &mut Map<String, Value>) {
        if let Some(fields) = self.for_dialect(dialect) {
            for (k, v) in fields {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}
