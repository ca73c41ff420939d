//! The suggestion model behind the tagging screen. It trains from the starter corpus and the tags
//! people confirmed, in the background (`spawn_blocking`), and a new model replaces the old one whole
//! behind an `Arc`: a card is built from whichever model is current and never waits for training.

use crate::domain::classify::{Example, Model, TrainOptions, corpus};
use crate::domain::tagging::TagSource;
use crate::store::Store;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// Retrain after this many opinions have had their tags confirmed.
pub const RETRAIN_EVERY: usize = 20;
/// Train on at most this many recently tagged opinions (training time and memory stay bounded).
const MAX_CONFIRMED: u64 = 2000;

/// How much one confirmed opinion counts against one starter line: a person read this campaign's text.
fn weight(tags: &[(crate::domain::area::AreaCode, TagSource)]) -> u32 {
    if tags.iter().all(|(_, s)| *s == TagSource::Bulk) { 1 } else { 2 }
}

/// The current model and the training in the background.
#[derive(Debug)]
pub struct Suggester {
    model: RwLock<Option<Arc<Model>>>,
    starter: Vec<Example>,
    options: TrainOptions,
    since: AtomicUsize,
    training: AtomicBool,
    /// Counts finished trainings, for whoever waits for one (tests, the benchmark).
    trained: tokio::sync::watch::Sender<u64>,
}

impl Suggester {
    /// A suggester with no model yet, to learn from `starter`.
    pub fn new(starter: Vec<Example>, options: TrainOptions) -> Suggester {
        Suggester {
            model: RwLock::new(None),
            starter,
            options,
            since: AtomicUsize::new(0),
            training: AtomicBool::new(false),
            trained: tokio::sync::watch::channel(0).0,
        }
    }

    /// Reads the training part of every `corpus-*.txt` in the forms folder (the held-out quarter is kept
    /// for the benchmark).
    ///
    /// # Errors
    /// A file that cannot be read or parsed, named with its line.
    pub fn load_starter(forms_dir: &Path) -> Result<Vec<Example>, String> {
        let mut files: Vec<_> = std::fs::read_dir(forms_dir)
            .map_err(|e| format!("{}: {e}", forms_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.starts_with("corpus-") && name.ends_with(".txt")
            })
            .collect();
        files.sort();
        let mut all = Vec::new();
        for p in files {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            all.extend(corpus::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?);
        }
        Ok(corpus::split(all).0)
    }

    /// The model in use, if one has finished training.
    pub fn current(&self) -> Option<Arc<Model>> {
        self.model.read().expect("model lock is never poisoned").clone()
    }

    /// Notes that `n` opinions had their tags confirmed; every [`RETRAIN_EVERY`] starts a training.
    pub fn confirmed(self: &Arc<Self>, store: &Store, n: usize) {
        if self.since.fetch_add(n, Ordering::Relaxed) + n >= RETRAIN_EVERY {
            self.retrain(store);
        }
    }

    /// Starts a training in the background unless one is running (that one will pick up the new tags
    /// on its next round). Returns whether it started one.
    pub fn retrain(self: &Arc<Self>, store: &Store) -> bool {
        if self.training.swap(true, Ordering::AcqRel) {
            return false;
        }
        let me = self.clone();
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                me.since.store(0, Ordering::Relaxed);
                me.train_once(&store).await;
                if me.since.load(Ordering::Relaxed) < RETRAIN_EVERY {
                    break;
                }
            }
            me.training.store(false, Ordering::Release);
        });
        true
    }

    async fn train_once(&self, store: &Store) {
        let confirmed = match store.confirmed_tags(MAX_CONFIRMED).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "confirmed tags not read; training on the starter corpus only");
                Vec::new()
            }
        };
        let mut examples = self.starter.clone();
        examples.extend(confirmed.into_iter().map(|c| Example {
            weight: weight(&c.tags),
            areas: c.tags.iter().map(|(a, _)| *a).collect(),
            text: c.text,
        }));
        let options = self.options.clone();
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || Model::train(&examples, &options)).await {
            Ok(model) => {
                tracing::info!(
                    examples = model.trained_on,
                    ms = started.elapsed().as_millis() as u64,
                    "suggestion model trained"
                );
                *self.model.write().expect("model lock is never poisoned") = Some(Arc::new(model));
                self.trained.send_modify(|n| *n += 1);
            }
            Err(e) => tracing::error!(error = %e, "suggestion model training failed"),
        }
    }

    /// How many trainings have finished.
    pub fn generation(&self) -> u64 {
        *self.trained.borrow()
    }

    /// Waits until more than `after` trainings have finished.
    pub async fn wait_trained(&self, after: u64) {
        let mut rx = self.trained.subscribe();
        let _ = rx.wait_for(|n| *n > after).await;
    }
}
