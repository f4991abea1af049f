//! Retransmission timeout per RFC 6298.

use crate::time::Duration;

/// Clock granularity G; our clock is in nanoseconds, so this only keeps RTO above SRTT.
const GRANULARITY: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
pub struct Rtt {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
    /// Number of doublings applied by timeouts since the last sample.
    backoff: u32,
}

impl Rtt {
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Rtt {
        Rtt {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial,
            min,
            max,
            backoff: 0,
        }
    }

    /// Feeds one measurement (never from a retransmitted segment: Karn's algorithm).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + GRANULARITY.max(self.rttvar * 4)).clamp(self.min, self.max);
        self.backoff = 0;
    }

    /// A timeout happened: double the timer (5.5).
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// RFC 6298 (5.7): after a timed-out handshake without a sample, restart from `rto`.
    pub fn restart(&mut self, rto: Duration) {
        if self.srtt.is_none() {
            self.rto = rto.clamp(self.min, self.max);
            self.backoff = 0;
        }
    }

    /// New data was acknowledged: the path works again, drop the backoff.
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }

    pub fn rto(&self) -> Duration {
        let shift = self.backoff.min(16);
        (self.rto * (1u32 << shift)).min(self.max)
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtt() -> Rtt {
        Rtt::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn first_and_later_samples() {
        let mut r = rtt();
        assert_eq!(r.rto(), Duration::from_secs(1));
        r.sample(Duration::from_millis(100));
        // SRTT 100, RTTVAR 50 -> RTO 100 + 200 = 300 ms.
        assert_eq!(r.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.sample(Duration::from_millis(200));
        // RTTVAR = 37.5 + 25 = 62.5; SRTT = 87.5 + 25 = 112.5; RTO = 112.5 + 250 = 362.5.
        assert_eq!(r.rto(), Duration::from_micros(362_500));
    }

    #[test]
    fn clamped_and_backed_off() {
        let mut r = rtt();
        r.sample(Duration::from_millis(1));
        assert_eq!(r.rto(), Duration::from_millis(200));
        r.back_off();
        r.back_off();
        assert_eq!(r.rto(), Duration::from_millis(800));
        for _ in 0..40 {
            r.back_off();
        }
        assert_eq!(r.rto(), Duration::from_secs(60));
        r.reset_backoff();
        assert_eq!(r.rto(), Duration::from_millis(200));
    }
}
