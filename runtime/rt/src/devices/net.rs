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

    /// Receives one frame into `buf` (at least `mtu() + ETHERNET_HEADER`
    /// bytes), returning its length.
    async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError>;

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
