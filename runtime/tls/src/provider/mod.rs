//! A rustls crypto provider of pure-Rust RustCrypto primitives. It builds
//! for every image (no C, no assembly, no OS calls): ring and aws-lc need a
//! C toolchain per target, and the RustCrypto-based providers on crates.io
//! draw randomness from `getrandom`, which calls into libc on the
//! `x86_64-unknown-linux-gnu` target freestanding images are compiled for.
//! Here every random byte comes from the platform's `unik_rt::Random`.

mod aead;
mod hash;
mod kx;
mod sign;
mod verify;

use alloc::vec;
use alloc::vec::Vec;

use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;
use rustls::crypto::{CryptoProvider, KeyExchangeAlgorithm, SecureRandom, SupportedKxGroup};
use rustls::{CipherSuite, CipherSuiteCommon, NamedGroup, SignatureScheme, SupportedCipherSuite};
use rustls::{Tls12CipherSuite, Tls13CipherSuite};

pub use verify::ALGORITHMS;

/// The provider, with `rng` as the source of every secret.
pub fn provider(rng: &'static dyn SecureRandom) -> CryptoProvider {
    let groups: Vec<&'static dyn SupportedKxGroup> = [
        NamedGroup::X25519,
        NamedGroup::secp256r1,
        NamedGroup::secp384r1,
    ]
    .into_iter()
    .map(|name| unik_rt::leak(kx::Group { name, rng }) as &'static dyn SupportedKxGroup)
    .collect();
    CryptoProvider {
        cipher_suites: vec![
            TLS13_AES_128_GCM_SHA256,
            TLS13_AES_256_GCM_SHA384,
            TLS13_CHACHA20_POLY1305_SHA256,
            TLS12_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TLS12_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TLS12_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TLS12_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TLS12_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TLS12_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: groups,
        signature_verification_algorithms: ALGORITHMS,
        secure_random: rng,
        key_provider: unik_rt::leak(sign::Keys { rng }),
    }
}

/// `rng` as the `rand_core` generator RSA blinding wants.
struct Rng(&'static dyn SecureRandom);

impl rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // `rand_core` leaves no way to fail here; the platform sources
        // (getrandom(2), the RDRAND-seeded generator) fail only when
        // absent, which the first handshake's key exchange already reports.
        if self.0.fill(dest).is_err() {
            panic!("the platform's random source failed");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0
            .fill(dest)
            .map_err(|_| rand_core::Error::from(core::num::NonZeroU32::new(1).unwrap()))
    }
}

impl rand_core::CryptoRng for Rng {}

const fn common(
    suite: CipherSuite,
    hash: &'static dyn rustls::crypto::hash::Hash,
    limit: u64,
) -> CipherSuiteCommon {
    CipherSuiteCommon {
        suite,
        hash_provider: hash,
        confidentiality_limit: limit,
    }
}

/// AES-GCM's limit of records under one key (2^24, RFC 8446 5.5 and the
/// AEAD limits draft); ChaCha20-Poly1305 has none that matters.
const GCM_LIMIT: u64 = 1 << 24;

pub static TLS13_AES_128_GCM_SHA256: SupportedCipherSuite =
    SupportedCipherSuite::Tls13(&Tls13CipherSuite {
        common: common(
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            &hash::SHA256,
            GCM_LIMIT,
        ),
        hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA256),
        aead_alg: &aead::TLS13_AES_128_GCM,
        quic: None,
    });

pub static TLS13_AES_256_GCM_SHA384: SupportedCipherSuite =
    SupportedCipherSuite::Tls13(&Tls13CipherSuite {
        common: common(
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            &hash::SHA384,
            GCM_LIMIT,
        ),
        hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA384),
        aead_alg: &aead::TLS13_AES_256_GCM,
        quic: None,
    });

pub static TLS13_CHACHA20_POLY1305_SHA256: SupportedCipherSuite =
    SupportedCipherSuite::Tls13(&Tls13CipherSuite {
        common: common(
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            &hash::SHA256,
            u64::MAX,
        ),
        hkdf_provider: &HkdfUsingHmac(&hash::HMAC_SHA256),
        aead_alg: &aead::TLS13_CHACHA20_POLY1305,
        quic: None,
    });

static ECDSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP256_SHA256,
];

static RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

macro_rules! tls12 {
    ($name:ident, $suite:ident, $sign:expr, $hash:expr, $hmac:expr, $aead:expr, $limit:expr) => {
        pub static $name: SupportedCipherSuite = SupportedCipherSuite::Tls12(&Tls12CipherSuite {
            common: common(CipherSuite::$suite, $hash, $limit),
            kx: KeyExchangeAlgorithm::ECDHE,
            sign: $sign,
            aead_alg: $aead,
            prf_provider: &PrfUsingHmac($hmac),
        });
    };
}

tls12!(
    TLS12_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ECDSA_SCHEMES,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    &aead::TLS12_AES_128_GCM,
    GCM_LIMIT
);
tls12!(
    TLS12_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ECDSA_SCHEMES,
    &hash::SHA384,
    &hash::HMAC_SHA384,
    &aead::TLS12_AES_256_GCM,
    GCM_LIMIT
);
tls12!(
    TLS12_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ECDSA_SCHEMES,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    &aead::TLS12_CHACHA20_POLY1305,
    u64::MAX
);
tls12!(
    TLS12_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    RSA_SCHEMES,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    &aead::TLS12_AES_128_GCM,
    GCM_LIMIT
);
tls12!(
    TLS12_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    RSA_SCHEMES,
    &hash::SHA384,
    &hash::HMAC_SHA384,
    &aead::TLS12_AES_256_GCM,
    GCM_LIMIT
);
tls12!(
    TLS12_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    RSA_SCHEMES,
    &hash::SHA256,
    &hash::HMAC_SHA256,
    &aead::TLS12_CHACHA20_POLY1305,
    u64::MAX
);
