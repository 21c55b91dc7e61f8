//! The drug catalogue (migration data): looked up by id and searched by name.

use uuid::Uuid;

use super::report::Drug;

/// The drug catalogue, loaded once from the database.
pub struct Catalogue {
    pub drugs: Vec<Drug>,
}

impl Catalogue {
    pub fn find(&self, id: Uuid) -> Option<Drug> {
        self.get(id).cloned()
    }

    /// The drug with this id, borrowed.
    pub fn get(&self, id: Uuid) -> Option<&Drug> {
        self.drugs.iter().find(|d| d.id == id)
    }

    /// Drugs whose name or a synonym contains `q` (case-insensitive), those starting with it first.
    pub fn search(&self, q: &str, limit: usize) -> Vec<Drug> {
        let q = q.trim().to_lowercase();
        if q.is_empty() {
            return self.drugs.iter().take(limit).cloned().collect();
        }
        let mut hits: Vec<(u8, &Drug)> = self
            .drugs
            .iter()
            .filter_map(|d| {
                let name = d.name.to_lowercase();
                let syn = d.synonyms.iter().map(|s| s.to_lowercase());
                if name.starts_with(&q) {
                    Some((0, d))
                } else if syn.clone().any(|s| s.starts_with(&q)) {
                    Some((1, d))
                } else if name.contains(&q) || syn.clone().any(|s| s.contains(&q)) {
                    Some((2, d))
                } else {
                    None
                }
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        hits.into_iter()
            .take(limit)
            .map(|(_, d)| d.clone())
            .collect()
    }
}
