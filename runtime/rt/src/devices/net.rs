use core::fmt;

/// Bytes of an Ethernet II header, which a device's MTU does not include.
pub const ETHERNET_HEADER: usize = 14;

/// An Ethernet address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// What a [`Network`] device does on the stack's behalf.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// Largest IPv4 or IPv6 packet (Ethernet header excluded) carrying one TCP segment that
    /// the device cuts into MSS-sized segments itself and whose TCP checksum it computes
    /// (TCP segmentation offload); 0: none, every frame fits the MTU.
    pub tso_max: usize,
    /// Largest IPv4 or IPv6 packet (Ethernet header excluded) that
    /// [`Network::recv_offload`] may deliver: a TCP segment the host coalesced from several
    /// (receive offload); 0: none, every received frame fits the MTU.
    pub rx_max: usize,
}

/// One frame from [`Network::recv_offload`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The frame's length, Ethernet header included.
    pub len: usize,
    /// The device vouches for the frame's TCP or UDP checksum, which the stack need not
    /// verify: the host verified it, or the frame never crossed a wire and its sender left
    /// the checksum to offload (the field then holds a partial sum).
    pub checksum_trusted: bool,
}

/// Errors of a [`Network`] device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// `write` asked for more than `mtu() + ETHERNET_HEADER` bytes.
    FrameTooLarge {
        size: usize,
        max: usize,
    },
    /// The fill function returned a length larger than the buffer it got.
    BadFillLength {
        returned: usize,
        size: usize,
    },
    /// A receive buffer smaller than `mtu() + ETHERNET_HEADER`.
    BufferTooSmall {
        len: usize,
        needed: usize,
    },
    Disconnected,
    /// The backend failed (OS error code where there is one).
    Io(i32),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::FrameTooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the maximum of {max}")
            }
            NetError::BadFillLength { returned, size } => {
                write!(
                    f,
                    "fill returned length {returned} for a buffer of {size} bytes"
                )
            }
            NetError::BufferTooSmall { len, needed } => {
                write!(f, "receive buffer of {len} bytes, at least {needed} needed")
            }
            NetError::Disconnected => f.write_str("network device disconnected"),
            NetError::Io(code) => write!(f, "network device I/O failed (os error {code})"),
        }
    }
}

/// An Ethernet device (MirageOS `Mirage_net.S`).
pub trait Network {
    fn mac(&self) -> Mac;

    /// Largest payload after the Ethernet header (1500 for a usual tap).
    fn mtu(&self) -> usize;

    /// Sends one frame. The device lends `fill` a buffer of `size` bytes
    /// (at most `mtu() + ETHERNET_HEADER`) that meets its backend's needs;
    /// `fill` writes the whole frame, header included, and returns its
    /// length. `fill` cannot fail and cannot keep the buffer.
    async fn write<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        fill: F,
    ) -> Result<(), NetError>;

    /// What the device offloads; none unless it says otherwise.
    fn offload(&self) -> Offload {
        Offload::default()
    }

    /// Sends one Ethernet/IPv4/TCP or Ethernet/IPv6/TCP frame of up to
    /// `offload().tso_max + ETHERNET_HEADER` bytes that the device segments into TCP
    /// segments of `mss` payload bytes. `fill` writes the frame as for [`Network::write`],
    /// with the IP header for the whole packet (IPv4: valid checksum; IPv6: TCP right after
    /// the fixed header, no extension headers) and, in the TCP checksum field, the
    /// pseudo-header sum (folded, not complemented) over the whole TCP length, as Linux's
    /// TSO expects; the device completes the checksum of every segment.
    async fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        mss: usize,
        fill: F,
    ) -> Result<(), NetError> {
        let _ = (mss, fill);
        Err(NetError::FrameTooLarge {
            size,
            max: self.offload().tso_max + ETHERNET_HEADER,
        })
    }

    /// Receives one frame into `buf` (at least `mtu() + ETHERNET_HEADER`
    /// bytes), returning its length.
    async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError>;

    /// Receives one frame as [`Network::recv`] does, except that the device may use its
    /// receive offloads: `buf` holds at least `max(mtu(), offload().rx_max) +
    /// ETHERNET_HEADER` bytes, frames may be that large, and their transport checksum may be
    /// vouched for instead of complete. The first call turns the offloads on; a consumer
    /// uses either this or `recv`, not both.
    async fn recv_offload(&self, buf: &mut [u8]) -> Result<Received, NetError> {
        let len = self.recv(buf).await?;
        Ok(Received {
            len,
            checksum_trusted: false,
        })
    }

    /// Calls `handler` with every received frame until the device fails or
    /// is disconnected.
    async fn listen<H: FnMut(&[u8])>(&self, mut handler: H) -> Result<(), NetError> {
        let mut buf = alloc::vec![0u8; self.mtu() + ETHERNET_HEADER];
        loop {
            let len = self.recv(&mut buf).await?;
            handler(&buf[..len]);
        }
    }

    /// Stops the device; later calls return [`NetError::Disconnected`].
    fn disconnect(&self);
}
