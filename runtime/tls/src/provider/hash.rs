//! SHA-256 and SHA-384 (the suites' hashes) and HMAC over them, which
//! rustls turns into HKDF (TLS 1.3) and the PRF (TLS 1.2).

use alloc::boxed::Box;
use core::marker::PhantomData;

use hmac::{Mac, SimpleHmac};
use rustls::crypto::hash::{self, HashAlgorithm};
use rustls::crypto::hmac as rhmac;
use sha2::{Digest, Sha256, Sha384};

/// A hash of `sha2` as rustls wants it.
pub struct Hash<D>(PhantomData<fn() -> D>);

pub static SHA256: Hash<Sha256> = Hash(PhantomData);
pub static SHA384: Hash<Sha384> = Hash(PhantomData);

trait Named {
    const ALGORITHM: HashAlgorithm;
}

impl Named for Sha256 {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::SHA256;
}

impl Named for Sha384 {
    const ALGORITHM: HashAlgorithm = HashAlgorithm::SHA384;
}

#[allow(private_bounds)]
impl<D> hash::Hash for Hash<D>
where
    D: Digest + Clone + Send + Sync + Named + 'static,
{
    fn start(&self) -> Box<dyn hash::Context> {
        Box::new(Context(D::new()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(&D::digest(data))
    }

    fn output_len(&self) -> usize {
        <D as Digest>::output_size()
    }

    fn algorithm(&self) -> HashAlgorithm {
        D::ALGORITHM
    }
}

struct Context<D>(D);

impl<D: Digest + Clone + Send + Sync + 'static> hash::Context for Context<D> {
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn hash::Context> {
        Box::new(Context(self.0.clone()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(&self.0.finalize())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// HMAC over a `sha2` hash.
pub struct Hmac<D>(PhantomData<fn() -> D>);

pub static HMAC_SHA256: Hmac<Sha256> = Hmac(PhantomData);
pub static HMAC_SHA384: Hmac<Sha384> = Hmac(PhantomData);

impl<D> rhmac::Hmac for Hmac<D>
where
    D: Digest + Clone + Send + Sync + 'static + hmac::digest::core_api::BlockSizeUser,
{
    fn with_key(&self, key: &[u8]) -> Box<dyn rhmac::Key> {
        // HMAC accepts keys of any length (longer ones are hashed first).
        Box::new(HmacKey(
            <SimpleHmac<D> as Mac>::new_from_slice(key).expect("HMAC takes any key length"),
        ))
    }

    fn hash_output_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}

struct HmacKey<D: Digest + hmac::digest::core_api::BlockSizeUser>(SimpleHmac<D>);

impl<D> rhmac::Key for HmacKey<D>
where
    D: Digest + Clone + Send + Sync + 'static + hmac::digest::core_api::BlockSizeUser,
{
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> rhmac::Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for m in middle {
            mac.update(m);
        }
        mac.update(last);
        rhmac::Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        <D as Digest>::output_size()
    }
}
