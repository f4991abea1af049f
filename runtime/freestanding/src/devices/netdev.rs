//! What every freestanding platform's network device checks alike, so they
//! fail with the same `NetError`s.

use core::cell::Cell;

use unik_rt::{ETHERNET_HEADER, NetError};

/// A device's "disconnected" flag: set by `Network::disconnect`, after which
/// every operation fails.
#[derive(Debug, Default)]
pub struct Link {
    disconnected: Cell<bool>,
}

impl Link {
    pub const fn new() -> Self {
        Self {
            disconnected: Cell::new(false),
        }
    }

    /// `Err(Disconnected)` once [`Link::disconnect`] was called.
    pub fn check(&self) -> Result<(), NetError> {
        if self.disconnected.get() {
            Err(NetError::Disconnected)
        } else {
            Ok(())
        }
    }

    pub fn disconnect(&self) {
        self.disconnected.set(true);
    }
}

/// A frame of `size` bytes (header included) must fit `mtu` plus the header.
pub fn check_frame(size: usize, mtu: usize) -> Result<(), NetError> {
    let max = mtu + ETHERNET_HEADER;
    if size > max {
        return Err(NetError::FrameTooLarge { size, max });
    }
    Ok(())
}

/// A receive buffer of `len` bytes must hold any frame of `mtu`.
pub fn check_buffer(len: usize, mtu: usize) -> Result<(), NetError> {
    let needed = mtu + ETHERNET_HEADER;
    if len < needed {
        return Err(NetError::BufferTooSmall { len, needed });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_the_mtu_plus_the_header() {
        assert!(check_frame(1514, 1500).is_ok());
        assert!(matches!(
            check_frame(1515, 1500),
            Err(NetError::FrameTooLarge {
                size: 1515,
                max: 1514
            })
        ));
        assert!(check_buffer(1514, 1500).is_ok());
        assert!(matches!(
            check_buffer(1513, 1500),
            Err(NetError::BufferTooSmall {
                len: 1513,
                needed: 1514
            })
        ));
    }

    #[test]
    fn a_disconnected_link_stays_disconnected() {
        let link = Link::new();
        assert!(link.check().is_ok());
        link.disconnect();
        assert!(matches!(link.check(), Err(NetError::Disconnected)));
        assert!(matches!(link.check(), Err(NetError::Disconnected)));
    }
}
