//! `generic_happy_eyeballs`: TCP connections by RFC 8305 over a [`Transport`], with the
//! decisions of [`crate::he`]. Resolution (for [`HappyEyeballs::connect_host`]) and the
//! connection attempts run concurrently in the calling task; losing attempts are dropped
//! (cancelled) or, when they connected too, closed.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::{Future, poll_fn};
use core::net::{IpAddr, SocketAddr};
use core::pin::Pin;
use core::task::Poll;

use unik_rt::exec;
use unik_rt::time::{SleepUntil, sleep_until};

use super::client::DnsClient;
use super::{Stream, Transport, TransportError};
use crate::he::{self, Action, AttemptId, Family};
use crate::lookup::{self, Answer};
use crate::wire::Qtype;

/// Why a connection could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// Resolution found no address: what AAAA and A ended with.
    Resolve {
        host: String,
        aaaa: Option<lookup::Error>,
        a: Option<lookup::Error>,
    },
    Connect(he::Error),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Resolve { host, aaaa, a } => {
                write!(f, "{host}: no address")?;
                if let Some(e) = aaaa {
                    write!(f, "; AAAA: {e}")?;
                }
                if let Some(e) = a {
                    write!(f, "; A: {e}")?;
                }
                Ok(())
            }
            ConnectError::Connect(e) => write!(f, "{e}"),
        }
    }
}

/// Connecting by happy eyeballs (mirage's `Happy_eyeballs_mirage.S`).
pub trait HappyEyeballs {
    type Flow: Stream;

    /// Connects to `port` of one of `addrs` (IPv6 first, alternating families).
    async fn connect_ip(
        &self,
        addrs: &[IpAddr],
        port: u16,
    ) -> Result<(SocketAddr, Self::Flow), ConnectError>;

    /// Resolves `host` (AAAA and A at once) with `dns` and connects to `port` of one of its
    /// addresses.
    async fn connect_host<D: DnsClient>(
        &self,
        dns: &D,
        host: &str,
        port: u16,
    ) -> Result<(SocketAddr, Self::Flow), ConnectError>;
}

/// The device.
pub struct Eyeballs<T: Transport> {
    transport: T,
    config: he::Config,
}

/// `generic_happy_eyeballs $ stack` (mirage 4's shape: a dual stack).
pub fn connect<S: unik_rt::StackV4V6 + 'static>(
    stack: &'static S,
) -> Result<Eyeballs<super::StackV4V6<S>>, core::convert::Infallible> {
    Ok(Eyeballs::new(
        super::StackV4V6(stack),
        he::Config::default(),
    ))
}

/// `happy_eyeballs_of_stackv4 $ stack`: over an IPv4-only stack, where IPv6 attempts fail
/// at once.
pub fn connect_v4<S: unik_rt::StackV4 + 'static>(
    stack: &'static S,
) -> Result<Eyeballs<super::StackV4<S>>, core::convert::Infallible> {
    Ok(Eyeballs::new(super::StackV4(stack), he::Config::default()))
}

type Resolving<'a> = Pin<Box<dyn Future<Output = Result<Answer, lookup::Error>> + 'a>>;
type Attempt<'a, F> = Pin<Box<dyn Future<Output = Result<F, TransportError>> + 'a>>;

impl<T: Transport> Eyeballs<T> {
    pub fn new(transport: T, config: he::Config) -> Eyeballs<T> {
        Eyeballs { transport, config }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    async fn drive<'a>(
        &'a self,
        mut machine: he::HappyEyeballs,
        mut aaaa: Option<Resolving<'a>>,
        mut a: Option<Resolving<'a>>,
    ) -> (
        Result<(SocketAddr, T::Flow), he::Error>,
        [Option<lookup::Error>; 2],
    ) {
        let mut errors: [Option<lookup::Error>; 2] = [None, None];
        let mut attempts: Vec<(AttemptId, Attempt<'a, T::Flow>)> = Vec::new();
        let mut connected: Vec<(AttemptId, T::Flow)> = Vec::new();
        let mut to_close: Vec<T::Flow> = Vec::new();
        let mut timer: Option<(u64, Pin<Box<SleepUntil>>)> = None;
        let result = poll_fn(|cx| {
            loop {
                let now = exec::now_ns();
                let mut progressed = false;
                for (slot, family, err) in [
                    (&mut aaaa, Family::V6, 0usize),
                    (&mut a, Family::V4, 1usize),
                ] {
                    if let Some(f) = slot.as_mut()
                        && let Poll::Ready(r) = f.as_mut().poll(cx)
                    {
                        *slot = None;
                        let addrs = match r {
                            Ok(ans) => ans.addrs,
                            Err(e) => {
                                errors[err] = Some(e);
                                Vec::new()
                            }
                        };
                        machine.resolved(family, &addrs, now);
                        progressed = true;
                    }
                }
                let mut i = 0;
                while i < attempts.len() {
                    if let Poll::Ready(r) = attempts[i].1.as_mut().poll(cx) {
                        let (id, _) = attempts.swap_remove(i);
                        match r {
                            Ok(flow) => {
                                machine.connected(id);
                                connected.push((id, flow));
                            }
                            Err(_) => machine.failed(id),
                        }
                        progressed = true;
                    } else {
                        i += 1;
                    }
                }
                for action in machine.poll(now) {
                    match action {
                        Action::Connect { id, addr } => {
                            attempts.push((id, Box::pin(self.transport.connect(addr))));
                            progressed = true;
                        }
                        Action::Close { id } => {
                            attempts.retain(|(a, _)| *a != id);
                            if let Some(p) = connected.iter().position(|(a, _)| *a == id) {
                                to_close.push(connected.swap_remove(p).1);
                            }
                        }
                        Action::Done(Ok((id, addr))) => {
                            let p = connected.iter().position(|(a, _)| *a == id);
                            let flow = connected.swap_remove(p.expect("the winner connected")).1;
                            return Poll::Ready(Ok((addr, flow)));
                        }
                        Action::Done(Err(e)) => return Poll::Ready(Err(e)),
                    }
                }
                if progressed {
                    continue;
                }
                match machine.next_wakeup() {
                    Some(at) => {
                        if timer.as_ref().is_none_or(|(t, _)| *t != at) {
                            timer = Some((at, Box::pin(sleep_until(at))));
                        }
                        let (_, sleep) = timer.as_mut().expect("set above");
                        if sleep.as_mut().poll(cx).is_ready() {
                            timer = None;
                            continue;
                        }
                    }
                    None => timer = None,
                }
                return Poll::Pending;
            }
        })
        .await;
        drop(attempts);
        for flow in to_close
            .into_iter()
            .chain(connected.into_iter().map(|(_, f)| f))
        {
            let _ = flow.close().await;
        }
        (result, errors)
    }
}

impl<T: Transport> HappyEyeballs for Eyeballs<T> {
    type Flow = T::Flow;

    async fn connect_ip(
        &self,
        addrs: &[IpAddr],
        port: u16,
    ) -> Result<(SocketAddr, T::Flow), ConnectError> {
        let machine = he::HappyEyeballs::with_addresses(addrs, port, exec::now_ns(), self.config);
        let (r, _) = self.drive(machine, None, None).await;
        r.map_err(ConnectError::Connect)
    }

    async fn connect_host<D: DnsClient>(
        &self,
        dns: &D,
        host: &str,
        port: u16,
    ) -> Result<(SocketAddr, T::Flow), ConnectError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.connect_ip(&[ip], port).await;
        }
        let machine = he::HappyEyeballs::new(port, exec::now_ns(), self.config);
        let (r, [aaaa, a]) = self
            .drive(
                machine,
                Some(Box::pin(dns.resolve(host, Qtype::Aaaa))),
                Some(Box::pin(dns.resolve(host, Qtype::A))),
            )
            .await;
        r.map_err(|e| match e {
            he::Error::NoAddresses => ConnectError::Resolve {
                host: String::from(host),
                aaaa,
                a,
            },
            e => ConnectError::Connect(e),
        })
    }
}
