//! Signature verification for certificate chains (rustls-webpki) and for
//! the handshake: ECDSA over P-256/P-384 and RSA (PKCS#1 v1.5 and PSS).

use core::fmt;

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs1::DecodeRsaPublicKey;
use rustls::SignatureScheme;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use sha2::{Digest, Sha256, Sha384, Sha512};

#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

#[derive(Clone, Copy, Debug)]
enum HashKind {
    Sha256,
    Sha384,
    Sha512,
}

impl HashKind {
    fn digest(self, msg: &[u8]) -> alloc::vec::Vec<u8> {
        match self {
            HashKind::Sha256 => Sha256::digest(msg).to_vec(),
            HashKind::Sha384 => Sha384::digest(msg).to_vec(),
            HashKind::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }
}

struct Ecdsa {
    curve: Curve,
    hash: HashKind,
}

impl fmt::Debug for Ecdsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ECDSA {:?} {:?}", self.curve, self.hash)
    }
}

impl SignatureVerificationAlgorithm for Ecdsa {
    fn verify_signature(&self, key: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), InvalidSignature> {
        match self.curve {
            Curve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p256::ecdsa::DerSignature::from_bytes(sig).map_err(|_| InvalidSignature)?;
                let sig = p256::ecdsa::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&self.hash.digest(msg), &sig)
            }
            Curve::P384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map_err(|_| InvalidSignature)?;
                let sig =
                    p384::ecdsa::DerSignature::from_bytes(sig).map_err(|_| InvalidSignature)?;
                let sig = p384::ecdsa::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                key.verify_prehash(&self.hash.digest(msg), &sig)
            }
        }
        .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.curve {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            HashKind::Sha256 => alg_id::ECDSA_SHA256,
            HashKind::Sha384 => alg_id::ECDSA_SHA384,
            HashKind::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Padding {
    Pkcs1,
    Pss,
}

struct Rsa {
    padding: Padding,
    hash: HashKind,
}

impl fmt::Debug for Rsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RSA {:?} {:?}", self.padding, self.hash)
    }
}

/// The RSA moduli accepted, in bits (as webpki's own verifiers: 2048 up).
const RSA_MIN_BITS: usize = 2048;

impl SignatureVerificationAlgorithm for Rsa {
    fn verify_signature(&self, key: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), InvalidSignature> {
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(key).map_err(|_| InvalidSignature)?;
        if key.n().bits() < RSA_MIN_BITS {
            return Err(InvalidSignature);
        }
        let ok = match self.padding {
            Padding::Pkcs1 => {
                let sig = rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                match self.hash {
                    HashKind::Sha256 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key).verify(msg, &sig)
                    }
                    HashKind::Sha384 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key).verify(msg, &sig)
                    }
                    HashKind::Sha512 => {
                        rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key).verify(msg, &sig)
                    }
                }
            }
            Padding::Pss => {
                let sig = rsa::pss::Signature::try_from(sig).map_err(|_| InvalidSignature)?;
                match self.hash {
                    HashKind::Sha256 => {
                        rsa::pss::VerifyingKey::<Sha256>::new(key).verify(msg, &sig)
                    }
                    HashKind::Sha384 => {
                        rsa::pss::VerifyingKey::<Sha384>::new(key).verify(msg, &sig)
                    }
                    HashKind::Sha512 => {
                        rsa::pss::VerifyingKey::<Sha512>::new(key).verify(msg, &sig)
                    }
                }
            }
        };
        ok.map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match (self.padding, self.hash) {
            (Padding::Pkcs1, HashKind::Sha256) => alg_id::RSA_PKCS1_SHA256,
            (Padding::Pkcs1, HashKind::Sha384) => alg_id::RSA_PKCS1_SHA384,
            (Padding::Pkcs1, HashKind::Sha512) => alg_id::RSA_PKCS1_SHA512,
            (Padding::Pss, HashKind::Sha256) => alg_id::RSA_PSS_SHA256,
            (Padding::Pss, HashKind::Sha384) => alg_id::RSA_PSS_SHA384,
            (Padding::Pss, HashKind::Sha512) => alg_id::RSA_PSS_SHA512,
        }
    }
}

static ECDSA_P256_SHA256: Ecdsa = Ecdsa {
    curve: Curve::P256,
    hash: HashKind::Sha256,
};
static ECDSA_P256_SHA384: Ecdsa = Ecdsa {
    curve: Curve::P256,
    hash: HashKind::Sha384,
};
static ECDSA_P384_SHA256: Ecdsa = Ecdsa {
    curve: Curve::P384,
    hash: HashKind::Sha256,
};
static ECDSA_P384_SHA384: Ecdsa = Ecdsa {
    curve: Curve::P384,
    hash: HashKind::Sha384,
};
static RSA_PKCS1_SHA256: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashKind::Sha256,
};
static RSA_PKCS1_SHA384: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashKind::Sha384,
};
static RSA_PKCS1_SHA512: Rsa = Rsa {
    padding: Padding::Pkcs1,
    hash: HashKind::Sha512,
};
static RSA_PSS_SHA256: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashKind::Sha256,
};
static RSA_PSS_SHA384: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashKind::Sha384,
};
static RSA_PSS_SHA512: Rsa = Rsa {
    padding: Padding::Pss,
    hash: HashKind::Sha512,
};

/// Every algorithm, for chains, and the handshake's schemes mapped to them.
pub static ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        &ECDSA_P256_SHA256,
        &ECDSA_P256_SHA384,
        &ECDSA_P384_SHA256,
        &ECDSA_P384_SHA384,
        &RSA_PKCS1_SHA256,
        &RSA_PKCS1_SHA384,
        &RSA_PKCS1_SHA512,
        &RSA_PSS_SHA256,
        &RSA_PSS_SHA384,
        &RSA_PSS_SHA512,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[&ECDSA_P384_SHA384, &ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[&ECDSA_P256_SHA256, &ECDSA_P384_SHA256],
        ),
        (SignatureScheme::RSA_PSS_SHA512, &[&RSA_PSS_SHA512]),
        (SignatureScheme::RSA_PSS_SHA384, &[&RSA_PSS_SHA384]),
        (SignatureScheme::RSA_PSS_SHA256, &[&RSA_PSS_SHA256]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[&RSA_PKCS1_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[&RSA_PKCS1_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[&RSA_PKCS1_SHA256]),
    ],
};
