//! Sequencing with group commit: appends wait in a pool; the sequencer takes everything
//! that arrived within the pool window, integrates it, signs a checkpoint, writes it all
//! in one atomic, durable batch, publishes, and only then answers every waiter.
//!
//! The sequencer is one OS thread, so integration needs no locks and no async runtime.
//! A storage failure is fatal, as in Sunlight: the waiters of that batch get the error,
//! the ledger stops accepting appends, and readers keep serving the last published
//! (durable) checkpoint. A restart reloads whatever is durable, which is consistent
//! because every batch is atomic.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use guildmark_credentials::checkpoint::Checkpoint;
use guildmark_credentials::merkle;
use guildmark_credentials::note::NoteSigner;
use guildmark_credentials::receipt::Receipt;
use tokio::sync::oneshot;

use super::growth::Growth;
use super::storage::{Batch, Store};
use super::tiles::{TileCache, TileReader};
use super::{sign, LedgerConfig, LedgerError, Published, MAX_ENTRY};

/// The answer an append waits for.
type Reply = oneshot::Sender<Result<Receipt, LedgerError>>;

/// An append waiting in the pool.
struct Pending {
    entry: Vec<u8>,
    keys: Vec<Vec<u8>>,
    reply: Reply,
}

/// What the sequencer thread owns.
pub(crate) struct State {
    pub store: Arc<Store>,
    pub cache: Arc<TileCache>,
    pub published: Arc<RwLock<Published>>,
    /// Tells watchers (the node's witnessing) the new size once it is published.
    pub sizes: tokio::sync::watch::Sender<u64>,
    pub signer: NoteSigner,
    pub growth: Growth,
}

/// The callers' side of the sequencer.
pub(crate) struct Handle {
    sender: Mutex<Option<SyncSender<Pending>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stopped: Arc<AtomicBool>,
}

impl Handle {
    /// Queues an append; the receiver resolves with its receipt.
    pub fn submit(
        &self,
        entry: Vec<u8>,
        keys: Vec<Vec<u8>>,
    ) -> Result<oneshot::Receiver<Result<Receipt, LedgerError>>, LedgerError> {
        if entry.len() > MAX_ENTRY {
            return Err(LedgerError::EntryTooLarge(entry.len()));
        }
        if self.stopped.load(Ordering::Acquire) {
            return Err(LedgerError::Stopped);
        }
        let (reply, receiver) = oneshot::channel();
        let sender = self.sender.lock().expect("sender lock");
        let sender = sender.as_ref().ok_or(LedgerError::Stopped)?;
        match sender.try_send(Pending { entry, keys, reply }) {
            Ok(()) => Ok(receiver),
            Err(TrySendError::Full(_)) => Err(LedgerError::Pushback),
            Err(TrySendError::Disconnected(_)) => Err(LedgerError::Stopped),
        }
    }

    /// Closes the pool and waits until everything queued is durable and answered.
    pub fn shutdown(&self) {
        self.sender.lock().expect("sender lock").take();
        if let Some(thread) = self.thread.lock().expect("thread lock").take() {
            let _ = thread.join();
        }
    }
}

/// Starts the sequencer thread.
pub(crate) fn start(state: State, config: &LedgerConfig) -> Handle {
    let (sender, receiver) = mpsc::sync_channel(config.queue);
    let stopped = Arc::new(AtomicBool::new(false));
    let window = config.pool_window;
    let max_batch = config.max_batch.max(1);
    let flag = stopped.clone();
    let thread = std::thread::Builder::new()
        .name("ledger-sequencer".into())
        .spawn(move || run(state, receiver, window, max_batch, flag))
        .expect("start the sequencer thread");
    Handle {
        sender: Mutex::new(Some(sender)),
        thread: Mutex::new(Some(thread)),
        stopped,
    }
}

fn run(
    mut state: State,
    pool: mpsc::Receiver<Pending>,
    window: Duration,
    max_batch: usize,
    stopped: Arc<AtomicBool>,
) {
    // Ends when every sender is gone (shutdown) and the pool is drained.
    while let Ok(first) = pool.recv() {
        let mut batch = vec![first];
        let deadline = Instant::now() + window;
        while batch.len() < max_batch {
            match pool.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(pending) => batch.push(pending),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Err(error) = state.sequence(batch) {
            tracing::error!(%error, "ledger stopped: a batch could not be made durable");
            stopped.store(true, Ordering::Release);
            // Answer everything still queued, then stop.
            for pending in pool.try_iter() {
                let _ = pending.reply.send(Err(LedgerError::Stopped));
            }
            return;
        }
    }
}

impl State {
    /// Integrates, commits, publishes and answers one batch. An `Err` is fatal.
    fn sequence(&mut self, batch: Vec<Pending>) -> Result<(), LedgerError> {
        // Refuse lookup keys logged before or twice in this batch; the rest go in.
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut accepted: Vec<Pending> = Vec::with_capacity(batch.len());
        'pending: for pending in batch {
            for key in &pending.keys {
                let earlier = match self.store.lookup(key) {
                    Ok(found) => found,
                    Err(e) => {
                        let _ = pending.reply.send(Err(e.clone()));
                        return Err(e);
                    }
                };
                if let Some(index) = earlier {
                    let _ = pending.reply.send(Err(LedgerError::Duplicate { index }));
                    continue 'pending;
                }
                if !seen.insert(key.clone()) {
                    let index = self.growth.size() + accepted.len() as u64;
                    let _ = pending.reply.send(Err(LedgerError::Duplicate { index }));
                    continue 'pending;
                }
            }
            accepted.push(pending);
        }
        if accepted.is_empty() {
            return Ok(());
        }
        // Refused before anything is written while the disk is too full: the ledger
        // goes on, and takes appends again once space is freed.
        let bytes: usize = accepted.iter().map(|p| p.entry.len() + 64).sum();
        if let Err(e) = self.store.room(bytes as u64 * 2) {
            for pending in accepted {
                let _ = pending.reply.send(Err(e.clone()));
            }
            return match e {
                LedgerError::NoSpace(_) => Ok(()),
                other => Err(other),
            };
        }

        // Integrate: new leaves, new tiles, new root; one atomic write holds the
        // entries, tiles, lookup keys and the checkpoint.
        let start = self.growth.size();
        let fail = |accepted: Vec<Pending>, error: LedgerError| {
            for pending in accepted {
                let _ = pending.reply.send(Err(error.clone()));
            }
            Err(error)
        };
        let mut write = Batch::default();
        let writes = self.growth.integrate(
            accepted
                .iter()
                .map(|p| (p.entry.as_slice(), p.keys.as_slice())),
            &mut write,
        );
        let size = self.growth.size();
        let root = match self.growth.root(&self.store, &self.cache, &writes) {
            Ok(root) => root,
            Err(e) => return fail(accepted, e),
        };
        let checkpoint = Checkpoint {
            origin: self.signer.verifier().name().to_owned(),
            size,
            root,
            extensions: vec![],
        };
        let note = sign(&self.signer, &checkpoint);
        write.checkpoint(&note);
        if let Err(e) = self.store.commit(write) {
            return fail(accepted, e);
        }

        // Durable: publish, then answer with receipts.
        *self.published.write().expect("published lock") = Published {
            checkpoint,
            note: note.clone(),
        };
        self.sizes.send_replace(size);
        let mut reader = TileReader::new(&self.store, &self.cache, Some(&self.growth.frontier));
        for (i, pending) in accepted.into_iter().enumerate() {
            let index = start + i as u64;
            let receipt = merkle::inclusion_proof(&mut reader, index, size)
                .map(|proof| Receipt {
                    index,
                    proof,
                    checkpoint: note.clone(),
                })
                .map_err(|e| LedgerError::Storage(e.to_string()));
            let _ = pending.reply.send(receipt);
        }
        Ok(())
    }
}
