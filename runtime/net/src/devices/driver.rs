//! The interface shared by every layer, and the two tasks that drive it.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use unik_rt::{ETHERNET_HEADER, NetError, Network};

use super::ConnectError;
use crate::device::{Device, TxError};
use crate::iface::{Config, IcmpEvent, Icmpv6Event, Interface};
use crate::time::Instant;
use crate::wire::MacAddr;

/// Frames received back to back before the transmit side and applications get a turn.
const RX_BATCH: usize = 32;
/// ICMP events kept for the application; older ones are dropped.
const ICMP_EVENTS: usize = 64;
/// How long the transmitter waits after a device said it is not ready.
const BUSY_RETRY_NS: u64 = 1_000_000;
/// RFC 791: every host must accept 68-byte datagrams.
const MIN_MTU: usize = 68;

/// The executor's clock as the stack's time.
pub(crate) fn now() -> Instant {
    Instant::from_nanos(unik_rt::exec::now_ns())
}

/// One network interface: the device, the sans-IO stack, and who waits for what.
pub(crate) struct Shared<N: Network + 'static> {
    pub net: &'static N,
    pub iface: RefCell<Interface>,
    /// Application tasks waiting for the stack to change (data, window, state, address).
    waiters: RefCell<Vec<Waker>>,
    kicked: Cell<bool>,
    tx_waker: RefCell<Option<Waker>>,
    pub icmp: Rc<RefCell<VecDeque<IcmpEvent>>>,
    pub icmp6: Rc<RefCell<VecDeque<Icmpv6Event>>>,
    failure: RefCell<Option<NetError>>,
    tx_lost: Cell<u64>,
    /// An IPv4 layer (static or DHCP) is connected.
    pub addressed: Cell<bool>,
}

impl<N: Network + 'static> Shared<N> {
    /// Creates the interface (no address, no DHCP) and spawns its driver tasks, which run
    /// once the executor runs.
    pub fn start(net: &'static N) -> Result<&'static Shared<N>, ConnectError> {
        let mtu = net.mtu();
        if mtu < MIN_MTU {
            return Err(ConnectError::MtuTooSmall(mtu));
        }
        let mac = MacAddr(net.mac().0);
        let mut cfg = Config::new(mac, mtu);
        // Per-boot variation before a random layer reseeds: the MAC is random on unix.
        cfg.seed = mac.0.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b));
        let mut iface = Interface::new(cfg);
        iface.stop_dhcp();
        let icmp = Rc::new(RefCell::new(VecDeque::new()));
        let events = icmp.clone();
        iface.set_icmp_hook(Some(Box::new(move |e: &IcmpEvent| {
            let mut q = events.borrow_mut();
            if q.len() == ICMP_EVENTS {
                q.pop_front();
            }
            q.push_back(*e);
        })));
        let icmp6 = Rc::new(RefCell::new(VecDeque::new()));
        let events6 = icmp6.clone();
        iface.set_icmpv6_hook(Some(Box::new(move |e: &Icmpv6Event| {
            if let Icmpv6Event::DuplicateAddress { address } = e {
                unik_rt::log::error!(
                    target: "net",
                    "IPv6 address {address} is in use by another node on the link \
                     (duplicate address detection): not using it"
                );
            }
            let mut q = events6.borrow_mut();
            if q.len() == ICMP_EVENTS {
                q.pop_front();
            }
            q.push_back(*e);
        })));
        let shared = unik_rt::leak(Shared {
            net,
            iface: RefCell::new(iface),
            waiters: RefCell::new(Vec::new()),
            kicked: Cell::new(false),
            tx_waker: RefCell::new(None),
            icmp,
            icmp6,
            failure: RefCell::new(None),
            tx_lost: Cell::new(0),
            addressed: Cell::new(false),
        });
        // Detached: the driver lives as long as the device.
        drop(unik_rt::spawn(receive_loop(shared)));
        drop(unik_rt::spawn(transmit_loop(shared)));
        Ok(shared)
    }

    /// Asks the transmitter to run: data was queued, a window opened, a socket closed.
    pub fn kick(&self) {
        self.kicked.set(true);
        if let Some(w) = self.tx_waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn wake_waiters(&self) {
        let waiters = core::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            w.wake();
        }
    }

    /// Completes after the stack next made progress (or failed). Callers retry their
    /// operation afterwards; a spurious wake-up only costs a retry.
    pub fn changed(&self) -> impl Future<Output = ()> + '_ {
        let mut registered = false;
        poll_fn(move |cx| {
            if registered || self.failure.borrow().is_some() {
                return Poll::Ready(());
            }
            registered = true;
            self.waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
    }

    /// The next ICMP event; fails once the device stopped.
    pub async fn icmp_event(&self) -> Result<IcmpEvent, NetError> {
        loop {
            if let Some(e) = self.icmp.borrow_mut().pop_front() {
                return Ok(e);
            }
            if let Some(e) = self.failure() {
                return Err(e);
            }
            self.changed().await;
        }
    }

    /// The next ICMPv6 event; fails once the device stopped.
    pub async fn icmpv6_event(&self) -> Result<Icmpv6Event, NetError> {
        loop {
            if let Some(e) = self.icmp6.borrow_mut().pop_front() {
                return Ok(e);
            }
            if let Some(e) = self.failure() {
                return Err(e);
            }
            self.changed().await;
        }
    }

    /// The device error that stopped the driver, if any.
    pub fn failure(&self) -> Option<NetError> {
        self.failure.borrow().clone()
    }

    fn fail(&self, e: NetError) {
        self.failure.borrow_mut().get_or_insert(e);
        self.wake_waiters();
    }

    pub fn tx_lost(&self) -> u64 {
        self.tx_lost.get()
    }

    /// Runs `f` with the interface and a device view that writes through the network
    /// device; the caller's task is woken if the device becomes ready later.
    pub fn with_device<R>(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Interface, &mut Tx<'_, '_, '_, N>) -> R,
    ) -> (R, bool) {
        let mut tx = Tx {
            shared: self,
            cx,
            busy: false,
        };
        let r = f(&mut self.iface.borrow_mut(), &mut tx);
        (r, tx.busy)
    }
}

/// The stack's view of the network device during one transmit round.
pub(crate) struct Tx<'s, 'c, 'w, N: Network + 'static> {
    shared: &'s Shared<N>,
    cx: &'c mut Context<'w>,
    busy: bool,
}

impl<N: Network + 'static> Device for Tx<'_, '_, '_, N> {
    fn mtu(&self) -> usize {
        self.shared.net.mtu()
    }

    fn write<F: FnOnce(&mut [u8]) -> usize>(
        &mut self,
        size: usize,
        fill: F,
    ) -> Result<(), TxError> {
        let size = size.min(self.shared.net.mtu() + ETHERNET_HEADER);
        let filled = Cell::new(false);
        let write = pin!(self.shared.net.write(size, |buf| {
            filled.set(true);
            fill(buf)
        }));
        let polled = write.poll(self.cx);
        self.settle(polled, filled.get())
    }

    fn tso_max(&self) -> usize {
        self.shared.net.offload().tso_max
    }

    fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
        &mut self,
        size: usize,
        mss: usize,
        fill: F,
    ) -> Result<(), TxError> {
        let filled = Cell::new(false);
        let write = pin!(self.shared.net.write_tso(size, mss, |buf| {
            filled.set(true);
            fill(buf)
        }));
        let polled = write.poll(self.cx);
        self.settle(polled, filled.get())
    }
}

impl<N: Network + 'static> Tx<'_, '_, '_, N> {
    /// Accounts for one polled device write; `filled`: the write took the frame.
    fn settle(&mut self, polled: Poll<Result<(), NetError>>, filled: bool) -> Result<(), TxError> {
        match polled {
            Poll::Ready(Ok(())) => Ok(()),
            Poll::Ready(Err(e)) => {
                self.shared.tx_lost.set(self.shared.tx_lost.get() + 1);
                if matches!(e, NetError::Disconnected | NetError::Io(_)) {
                    self.shared.fail(e);
                }
                Ok(())
            }
            Poll::Pending if filled => {
                // The frame is in a buffer we cannot keep waiting on: it is lost.
                self.shared.tx_lost.set(self.shared.tx_lost.get() + 1);
                Ok(())
            }
            Poll::Pending => {
                self.busy = true;
                Err(TxError::Busy)
            }
        }
    }
}

async fn receive_loop<N: Network + 'static>(s: &'static Shared<N>) {
    // The device's receive offload, when it has one: fewer, larger frames.
    let mut buf = vec![0u8; s.net.mtu().max(s.net.offload().rx_max) + ETHERNET_HEADER];
    loop {
        for _ in 0..RX_BATCH {
            match s.net.recv_offload(&mut buf).await {
                Ok(r) => {
                    let frame = &buf[..r.len];
                    if r.checksum_trusted {
                        s.iface.borrow_mut().receive_offloaded(now(), frame);
                    } else {
                        s.iface.borrow_mut().receive(now(), frame);
                    }
                    s.kick();
                    s.wake_waiters();
                }
                Err(e) => {
                    s.fail(e);
                    return;
                }
            }
        }
        unik_rt::exec::yield_now().await;
    }
}

async fn transmit_loop<N: Network + 'static>(s: &'static Shared<N>) {
    loop {
        s.kicked.set(false);
        let (next, busy) = poll_fn(|cx| {
            Poll::Ready(s.with_device(cx, |iface, dev| {
                iface.transmit(now(), dev);
                iface.poll_at()
            }))
        })
        .await;
        s.wake_waiters();
        if s.failure().is_some() {
            return;
        }
        let deadline = if busy {
            Some(unik_rt::exec::now_ns() + BUSY_RETRY_NS)
        } else {
            next.map(Instant::as_nanos)
        };
        wait_kick(s, deadline).await;
    }
}

/// Waits for a kick or the deadline.
async fn wait_kick<N: Network + 'static>(s: &Shared<N>, deadline: Option<u64>) {
    let mut sleep = pin!(deadline.map(unik_rt::time::sleep_until));
    poll_fn(|cx| {
        if s.kicked.get() {
            return Poll::Ready(());
        }
        *s.tx_waker.borrow_mut() = Some(cx.waker().clone());
        match sleep.as_mut().as_pin_mut() {
            Some(t) => t.poll(cx),
            None => Poll::Pending,
        }
    })
    .await
}
