//! A network device wrapper that loses, duplicates and reorders frames in both directions,
//! like `tc netem loss L reorder R duplicate D` on both sides of the link. (The kernel here is
//! built without `sch_netem`, so the impairment sits between the tap and the stack.)

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use unik_rt::{Mac, NetError, Network};

/// Percentages in tenths of a percent.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    pub loss_permille: u64,
    pub reorder_permille: u64,
    pub duplicate_permille: u64,
}

/// What the wrapper did, for the test's report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub frames: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

pub struct Impaired<N: Network + 'static> {
    inner: &'static N,
    model: Impairment,
    rng: Cell<u64>,
    rx_pending: RefCell<VecDeque<Vec<u8>>>,
    rx_held: RefCell<Option<Vec<u8>>>,
    tx_held: RefCell<Option<Vec<u8>>>,
    pub counts: Cell<Counts>,
}

impl<N: Network + 'static> Impaired<N> {
    pub fn new(inner: &'static N, model: Impairment, seed: u64) -> Impaired<N> {
        Impaired {
            inner,
            model,
            rng: Cell::new(seed | 1),
            rx_pending: RefCell::new(VecDeque::new()),
            rx_held: RefCell::new(None),
            tx_held: RefCell::new(None),
            counts: Cell::new(Counts::default()),
        }
    }

    fn roll(&self, permille: u64) -> bool {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x % 1000 < permille
    }

    fn count(&self, f: impl FnOnce(&mut Counts)) {
        let mut c = self.counts.get();
        f(&mut c);
        self.counts.set(c);
    }

    async fn send_copy(&self, frame: &[u8]) -> Result<(), NetError> {
        self.inner
            .write(frame.len(), |b| {
                b[..frame.len()].copy_from_slice(frame);
                frame.len()
            })
            .await
    }
}

impl<N: Network + 'static> Network for Impaired<N> {
    fn mac(&self) -> Mac {
        self.inner.mac()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }

    async fn write<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        fill: F,
    ) -> Result<(), NetError> {
        self.count(|c| c.frames += 1);
        let (lose, dup, reorder) = (
            self.roll(self.model.loss_permille),
            self.roll(self.model.duplicate_permille),
            self.roll(self.model.reorder_permille),
        );
        if lose || dup || (reorder && self.tx_held.borrow().is_none()) {
            let mut frame = vec![0u8; size];
            let n = fill(&mut frame).min(size);
            frame.truncate(n);
            if lose {
                self.count(|c| c.lost += 1);
                return Ok(());
            }
            if dup {
                self.count(|c| c.duplicated += 1);
                self.send_copy(&frame).await?;
                self.send_copy(&frame).await?;
            } else {
                // Held back until the next frame has gone out.
                self.count(|c| c.reordered += 1);
                *self.tx_held.borrow_mut() = Some(frame);
                return Ok(());
            }
        } else {
            self.inner.write(size, fill).await?;
        }
        let held = self.tx_held.borrow_mut().take();
        if let Some(h) = held {
            self.send_copy(&h).await?;
        }
        Ok(())
    }

    async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        loop {
            let pending = self.rx_pending.borrow_mut().pop_front();
            if let Some(f) = pending {
                buf[..f.len()].copy_from_slice(&f);
                return Ok(f.len());
            }
            let n = self.inner.recv(buf).await?;
            self.count(|c| c.frames += 1);
            let (lose, dup, reorder) = (
                self.roll(self.model.loss_permille),
                self.roll(self.model.duplicate_permille),
                self.roll(self.model.reorder_permille),
            );
            if lose {
                self.count(|c| c.lost += 1);
                continue;
            }
            if reorder && !dup && self.rx_held.borrow().is_none() {
                self.count(|c| c.reordered += 1);
                *self.rx_held.borrow_mut() = Some(buf[..n].to_vec());
                continue;
            }
            if dup {
                self.count(|c| c.duplicated += 1);
                self.rx_pending.borrow_mut().push_back(buf[..n].to_vec());
            }
            let held = self.rx_held.borrow_mut().take();
            if let Some(h) = held {
                self.rx_pending.borrow_mut().push_back(h);
            }
            return Ok(n);
        }
    }

    fn disconnect(&self) {
        self.inner.disconnect();
    }
}
