//! Ephemeral key exchange: X25519 (preferred), P-256 and P-384. Secrets come
//! from the platform's random source, never from the OS's.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rustls::crypto::{ActiveKeyExchange, SecureRandom, SharedSecret, SupportedKxGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

/// One key-exchange group, drawing its secrets from `rng`.
pub struct Group {
    pub name: NamedGroup,
    pub rng: &'static dyn SecureRandom,
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name)
    }
}

fn random<const N: usize>(rng: &dyn SecureRandom) -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    rng.fill(&mut bytes)
        .map_err(|_| Error::FailedToGetRandomBytes)?;
    Ok(bytes)
}

impl SupportedKxGroup for Group {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        match self.name {
            NamedGroup::X25519 => {
                let secret = x25519_dalek::StaticSecret::from(random::<32>(self.rng)?);
                let public = x25519_dalek::PublicKey::from(&secret);
                Ok(Box::new(X25519 {
                    secret,
                    public: public.to_bytes(),
                }))
            }
            NamedGroup::secp256r1 => Ok(Box::new(Nist::<p256::NistP256>::new(self.rng)?)),
            NamedGroup::secp384r1 => Ok(Box::new(Nist::<p384::NistP384>::new(self.rng)?)),
            other => Err(Error::General(alloc::format!(
                "key exchange group {other:?} is not implemented"
            ))),
        }
    }

    fn name(&self) -> NamedGroup {
        self.name
    }
}

struct X25519 {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl ActiveKeyExchange for X25519 {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer
            .try_into()
            .map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        // RFC 8446 7.4.2: an all-zero result means a low-order peer key.
        if !shared.was_contributory() {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        Ok(SharedSecret::from(&shared.as_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// ECDH over a NIST curve, public keys as uncompressed SEC1 points.
struct Nist<C: elliptic_curve::CurveArithmetic> {
    secret: elliptic_curve::NonZeroScalar<C>,
    public: Vec<u8>,
}

use p256::elliptic_curve;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};

trait NistCurve:
    elliptic_curve::CurveArithmetic<
        AffinePoint: FromEncodedPoint<Self> + ToEncodedPoint<Self>,
        FieldBytesSize: elliptic_curve::sec1::ModulusSize,
    > + Send
    + Sync
    + 'static
{
    const GROUP: NamedGroup;
    /// Size of a scalar in bytes.
    const SIZE: usize;
}

impl NistCurve for p256::NistP256 {
    const GROUP: NamedGroup = NamedGroup::secp256r1;
    const SIZE: usize = 32;
}

impl NistCurve for p384::NistP384 {
    const GROUP: NamedGroup = NamedGroup::secp384r1;
    const SIZE: usize = 48;
}

impl<C: NistCurve> Nist<C> {
    fn new(rng: &dyn SecureRandom) -> Result<Self, Error> {
        // Rejection sampling: a random string is a valid scalar unless it is
        // zero or not below the group order, which is vanishingly rare.
        for _ in 0..16 {
            let mut bytes = [0u8; 48];
            rng.fill(&mut bytes[..C::SIZE])
                .map_err(|_| Error::FailedToGetRandomBytes)?;
            let Ok(secret) = elliptic_curve::SecretKey::<C>::from_slice(&bytes[..C::SIZE]) else {
                continue;
            };
            let public = secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            return Ok(Self {
                secret: secret.to_nonzero_scalar(),
                public,
            });
        }
        Err(Error::FailedToGetRandomBytes)
    }
}

impl<C: NistCurve> ActiveKeyExchange for Nist<C> {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let peer = elliptic_curve::PublicKey::<C>::from_sec1_bytes(peer)
            .map_err(|_| PeerMisbehaved::InvalidKeyShare)?;
        let shared = elliptic_curve::ecdh::diffie_hellman(self.secret, peer.as_affine());
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        C::GROUP
    }
}
