//! The config overlay: routes and models changed through the admin API, kept in the store and
//! laid over the file's config on every load. An overlay route replaces the file's route with
//! the same pattern or adds one; an overlay model entry replaces the one with the same name
//! and provider or adds one. The file stays the operator's; the overlay is what the API owns,
//! so deleting through the API only ever removes overlay entries.
//!
//! It owns the merge and the edits; validation stays with [`super::validate`], which sees the
//! merged result like any other config.

use serde::{Deserialize, Serialize};

use super::raw::{RawConfig, RawModel, RawRoute};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverlay {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RawRoute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<RawModel>,
}

impl RawOverlay {
    /// Lays the overlay over `raw`.
    pub fn apply(&self, raw: &mut RawConfig) {
        for route in &self.routes {
            match raw.routes.iter_mut().find(|r| r.model == route.model) {
                Some(existing) => *existing = route.clone(),
                None => raw.routes.push(route.clone()),
            }
        }
        for model in &self.models {
            match raw
                .models
                .iter_mut()
                .find(|m| m.name == model.name && m.provider == model.provider)
            {
                Some(existing) => *existing = model.clone(),
                None => raw.models.push(model.clone()),
            }
        }
    }

    /// Adds or replaces the route with this pattern; the previous overlay entry, if any.
    pub fn upsert_route(&mut self, route: RawRoute) -> Option<RawRoute> {
        match self.routes.iter_mut().find(|r| r.model == route.model) {
            Some(existing) => Some(std::mem::replace(existing, route)),
            None => {
                self.routes.push(route);
                None
            }
        }
    }

    /// Removes the overlay route with this pattern.
    pub fn remove_route(&mut self, pattern: &str) -> Option<RawRoute> {
        let at = self.routes.iter().position(|r| r.model == pattern)?;
        Some(self.routes.remove(at))
    }

    /// Adds or replaces the model entry with this name and provider.
    pub fn upsert_model(&mut self, model: RawModel) -> Option<RawModel> {
        match self
            .models
            .iter_mut()
            .find(|m| m.name == model.name && m.provider == model.provider)
        {
            Some(existing) => Some(std::mem::replace(existing, model)),
            None => {
                self.models.push(model);
                None
            }
        }
    }

    /// Removes the overlay model entry with this name and provider.
    pub fn remove_model(&mut self, name: &str, provider: Option<&str>) -> Option<RawModel> {
        let at = self
            .models
            .iter()
            .position(|m| m.name == name && m.provider.as_deref() == provider)?;
        Some(self.models.remove(at))
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.models.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::RawTarget;

    fn route(pattern: &str, provider: &str) -> RawRoute {
        RawRoute {
            model: pattern.into(),
            targets: vec![RawTarget {
                provider: provider.into(),
                model: None,
            }],
            ..RawRoute::default()
        }
    }

    #[test]
    fn overlay_routes_replace_by_pattern_or_add() {
        let mut raw = RawConfig {
            routes: vec![route("claude-*", "a"), route("*", "a")],
            ..RawConfig::default()
        };
        let mut overlay = RawOverlay::default();
        assert!(overlay.upsert_route(route("claude-*", "b")).is_none());
        assert!(overlay.upsert_route(route("gpt-*", "b")).is_none());
        overlay.apply(&mut raw);
        let got: Vec<(&str, &str)> = raw
            .routes
            .iter()
            .map(|r| (r.model.as_str(), r.targets[0].provider.as_str()))
            .collect();
        assert_eq!(got, [("claude-*", "b"), ("*", "a"), ("gpt-*", "b")]);
        assert!(overlay.remove_route("claude-*").is_some());
        assert!(overlay.remove_route("claude-*").is_none());
    }

    #[test]
    fn overlay_models_replace_by_name_and_provider() {
        let entry = |name: &str, provider: Option<&str>, max: u64| RawModel {
            name: name.into(),
            provider: provider.map(str::to_string),
            max_output_tokens: Some(max),
            price: None,
        };
        let mut raw = RawConfig {
            models: vec![entry("m", None, 1), entry("m", Some("p"), 2)],
            ..RawConfig::default()
        };
        let mut overlay = RawOverlay::default();
        overlay.upsert_model(entry("m", Some("p"), 20));
        overlay.upsert_model(entry("n", None, 3));
        assert!(overlay.upsert_model(entry("n", None, 30)).is_some());
        overlay.apply(&mut raw);
        let got: Vec<Option<u64>> = raw.models.iter().map(|m| m.max_output_tokens).collect();
        assert_eq!(got, [Some(1), Some(20), Some(30)]);
        assert!(overlay.remove_model("n", None).is_some());
        assert!(
            overlay.remove_model("m", None).is_none(),
            "only overlay entries go"
        );
        let text = serde_json::to_string(&overlay).expect("json");
        let back: RawOverlay = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, overlay);
    }
}
