//! The server's (or a client's) private key: ECDSA P-256/P-384 (deterministic
//! signatures, RFC 6979) or RSA (PSS or PKCS#1 v1.5, blinded with the
//! platform's random source), from PKCS#8, SEC1 or PKCS#1 DER.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use p256::pkcs8::DecodePrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer as _};
use rustls::crypto::{KeyProvider, SecureRandom};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};
use sha2::{Sha256, Sha384, Sha512};

/// Loads private keys; RSA signing draws its blinding from `rng`.
pub struct Keys {
    pub rng: &'static dyn SecureRandom,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unik-tls keys")
    }
}

impl KeyProvider for Keys {
    fn load_private_key(&self, der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let key = match &der {
            PrivateKeyDer::Pkcs8(k) => {
                let bytes = k.secret_pkcs8_der();
                if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(bytes) {
                    Key::P256(k)
                } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(bytes) {
                    Key::P384(k)
                } else if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(bytes) {
                    Key::Rsa(k)
                } else {
                    return Err(unsupported());
                }
            }
            PrivateKeyDer::Sec1(k) => {
                let bytes = k.secret_sec1_der();
                if let Ok(k) = p256::SecretKey::from_sec1_der(bytes) {
                    Key::P256(k.into())
                } else if let Ok(k) = p384::SecretKey::from_sec1_der(bytes) {
                    Key::P384(k.into())
                } else {
                    return Err(unsupported());
                }
            }
            PrivateKeyDer::Pkcs1(k) => Key::Rsa(
                rsa::RsaPrivateKey::from_pkcs1_der(k.secret_pkcs1_der())
                    .map_err(|_| unsupported())?,
            ),
            _ => return Err(unsupported()),
        };
        Ok(Arc::new(Loaded {
            key: Arc::new(key),
            rng: self.rng,
        }))
    }
}

fn unsupported() -> Error {
    Error::General("the private key is not an ECDSA P-256/P-384 or RSA key".into())
}

enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

struct Loaded {
    key: Arc<Key>,
    rng: &'static dyn SecureRandom,
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} key", self.algorithm())
    }
}

/// RSA schemes in order of preference (PSS first; TLS 1.3 allows only PSS).
const RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

impl SigningKey for Loaded {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = match &*self.key {
            Key::P256(_) => {
                Some(SignatureScheme::ECDSA_NISTP256_SHA256).filter(|s| offered.contains(s))
            }
            Key::P384(_) => {
                Some(SignatureScheme::ECDSA_NISTP384_SHA384).filter(|s| offered.contains(s))
            }
            Key::Rsa(_) => RSA_SCHEMES.iter().copied().find(|s| offered.contains(s)),
        }?;
        Some(Box::new(KeySigner {
            key: self.key.clone(),
            scheme,
            rng: self.rng,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match &*self.key {
            Key::P256(_) | Key::P384(_) => SignatureAlgorithm::ECDSA,
            Key::Rsa(_) => SignatureAlgorithm::RSA,
        }
    }
}

struct KeySigner {
    key: Arc<Key>,
    scheme: SignatureScheme,
    rng: &'static dyn SecureRandom,
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} signer", self.scheme)
    }
}

impl Signer for KeySigner {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::General("signing failed".into());
        match &*self.key {
            Key::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Key::P384(k) => {
                let sig: p384::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Key::Rsa(k) => {
                let mut rng = super::Rng(self.rng);
                let k = k.clone();
                let sig = match self.scheme {
                    SignatureScheme::RSA_PSS_SHA256 => {
                        rsa::pss::BlindedSigningKey::<Sha256>::new(k)
                            .try_sign_with_rng(&mut rng, msg)
                            .map(|s| s.to_vec())
                    }
                    SignatureScheme::RSA_PSS_SHA384 => {
                        rsa::pss::BlindedSigningKey::<Sha384>::new(k)
                            .try_sign_with_rng(&mut rng, msg)
                            .map(|s| s.to_vec())
                    }
                    SignatureScheme::RSA_PSS_SHA512 => {
                        rsa::pss::BlindedSigningKey::<Sha512>::new(k)
                            .try_sign_with_rng(&mut rng, msg)
                            .map(|s| s.to_vec())
                    }
                    SignatureScheme::RSA_PKCS1_SHA256 => {
                        rsa::pkcs1v15::SigningKey::<Sha256>::new(k)
                            .try_sign_with_rng(&mut rng, msg)
                            .map(|s| s.to_vec())
                    }
                    SignatureScheme::RSA_PKCS1_SHA384 => {
                        rsa::pkcs1v15::SigningKey::<Sha384>::new(k)
                            .try_sign_with_rng(&mut rng, msg)
                            .map(|s| s.to_vec())
                    }
                    _ => rsa::pkcs1v15::SigningKey::<Sha512>::new(k)
                        .try_sign_with_rng(&mut rng, msg)
                        .map(|s| s.to_vec()),
                };
                sig.map_err(failed)
            }
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}
