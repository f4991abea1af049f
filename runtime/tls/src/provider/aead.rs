//! Record protection: AES-GCM and ChaCha20-Poly1305 for TLS 1.3 and 1.2.

use alloc::boxed::Box;

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use rustls::crypto::cipher::{
    AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv, KeyBlockShape, MessageDecrypter,
    MessageEncrypter, NONCE_LEN, Nonce, OutboundOpaqueMessage, OutboundPlainMessage,
    PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm, UnsupportedOperationError,
    make_tls12_aad, make_tls13_aad,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

const TAG_LEN: usize = 16;
/// The explicit part of a TLS 1.2 GCM nonce, sent before each record.
const EXPLICIT_LEN: usize = 8;

/// An AEAD of RustCrypto's; `KEY_LEN` is its key size.
pub trait Cipher: AeadInPlace + KeyInit + Send + Sync + 'static {
    const KEY_LEN: usize;
}

impl Cipher for Aes128Gcm {
    const KEY_LEN: usize = 16;
}

impl Cipher for Aes256Gcm {
    const KEY_LEN: usize = 32;
}

impl Cipher for ChaCha20Poly1305 {
    const KEY_LEN: usize = 32;
}

fn cipher<C: Cipher>(key: &AeadKey) -> C {
    // rustls hands over exactly `key_len()` bytes.
    C::new_from_slice(key.as_ref()).expect("rustls gives keys of the suite's length")
}

/// The TLS 1.3 record protection of cipher `C`.
pub struct Tls13<C>(core::marker::PhantomData<fn() -> C>);

pub static TLS13_AES_128_GCM: Tls13<Aes128Gcm> = Tls13(core::marker::PhantomData);
pub static TLS13_AES_256_GCM: Tls13<Aes256Gcm> = Tls13(core::marker::PhantomData);
pub static TLS13_CHACHA20_POLY1305: Tls13<ChaCha20Poly1305> = Tls13(core::marker::PhantomData);

impl<C: Cipher> Tls13AeadAlgorithm for Tls13<C> {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Tls13Record::<C> {
            cipher: cipher(&key),
            iv,
        })
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Tls13Record::<C> {
            cipher: cipher(&key),
            iv,
        })
    }

    fn key_len(&self) -> usize {
        C::KEY_LEN
    }

    fn extract_keys(
        &self,
        _: AeadKey,
        _: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        // Only kernel TLS offload wants the keys; images have no kernel to give them to.
        Err(UnsupportedOperationError)
    }
}

struct Tls13Record<C> {
    cipher: C,
    iv: Iv,
}

impl<C: Cipher> MessageEncrypter for Tls13Record<C> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&msg.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls13_aad(total);
        let body = payload.as_mut();
        let plain_len = body.len();
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &aad, body)
            .map_err(|_| Error::EncryptError)?;
        debug_assert_eq!(plain_len + TAG_LEN, total);
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl<C: Cipher> MessageDecrypter for Tls13Record<C> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls13_aad(payload.len());
        let (body, tag) = payload.split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &aad,
                body,
                GenericArray::from_slice(tag),
            )
            .map_err(|_| Error::DecryptError)?;
        payload.truncate(plain_len);
        msg.into_tls13_unpadded_message()
    }
}

/// AES-GCM for TLS 1.2 (RFC 5288): a 4-byte implicit salt and an 8-byte
/// explicit nonce sent with each record.
pub struct Tls12Gcm<C>(core::marker::PhantomData<fn() -> C>);

pub static TLS12_AES_128_GCM: Tls12Gcm<Aes128Gcm> = Tls12Gcm(core::marker::PhantomData);
pub static TLS12_AES_256_GCM: Tls12Gcm<Aes256Gcm> = Tls12Gcm(core::marker::PhantomData);

impl<C: Cipher> Tls12AeadAlgorithm for Tls12Gcm<C> {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        // The explicit nonces are the sequence number XOR `extra` (random
        // per connection), so they never repeat under one key.
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(iv);
        nonce[4..].copy_from_slice(extra);
        Box::new(Tls12GcmRecord::<C> {
            cipher: cipher(&key),
            iv: Iv::new(nonce),
        })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(iv);
        Box::new(Tls12GcmRecord::<C> {
            cipher: cipher(&key),
            iv: Iv::new(nonce),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: C::KEY_LEN,
            fixed_iv_len: 4,
            explicit_nonce_len: EXPLICIT_LEN,
        }
    }

    fn extract_keys(
        &self,
        _: AeadKey,
        _: &[u8],
        _: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Err(UnsupportedOperationError)
    }
}

struct Tls12GcmRecord<C> {
    cipher: C,
    iv: Iv,
}

impl<C: Cipher> MessageEncrypter for Tls12GcmRecord<C> {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_slice(&nonce[4..]);
        payload.extend_from_chunks(&msg.payload);
        let tag = self
            .cipher
            .encrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &aad,
                &mut payload.as_mut()[EXPLICIT_LEN..],
            )
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        EXPLICIT_LEN + payload_len + TAG_LEN
    }
}

impl<C: Cipher> MessageDecrypter for Tls12GcmRecord<C> {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(EXPLICIT_LEN + TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(&self.iv.as_ref()[..4]);
        nonce[4..].copy_from_slice(&payload[..EXPLICIT_LEN]);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
        let (body, tag) = payload[EXPLICIT_LEN..].split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &aad,
                body,
                GenericArray::from_slice(tag),
            )
            .map_err(|_| Error::DecryptError)?;
        payload.copy_within(EXPLICIT_LEN..EXPLICIT_LEN + plain_len, 0);
        payload.truncate(plain_len);
        Ok(msg.into_plain_message())
    }
}

/// ChaCha20-Poly1305 for TLS 1.2 (RFC 7905): the nonce is the IV XOR the
/// sequence number, as in TLS 1.3, and nothing explicit is sent.
pub struct Tls12ChaCha;

pub static TLS12_CHACHA20_POLY1305: Tls12ChaCha = Tls12ChaCha;

impl Tls12AeadAlgorithm for Tls12ChaCha {
    fn encrypter(&self, key: AeadKey, iv: &[u8], _: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Tls12ChaChaRecord {
            cipher: cipher(&key),
            iv: Iv::copy(iv),
        })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        Box::new(Tls12ChaChaRecord {
            cipher: cipher(&key),
            iv: Iv::copy(iv),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: 32,
            fixed_iv_len: NONCE_LEN,
            explicit_nonce_len: 0,
        }
    }

    fn extract_keys(
        &self,
        _: AeadKey,
        _: &[u8],
        _: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Err(UnsupportedOperationError)
    }
}

struct Tls12ChaChaRecord {
    cipher: ChaCha20Poly1305,
    iv: Iv,
}

impl MessageEncrypter for Tls12ChaChaRecord {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total = self.encrypted_payload_len(msg.payload.len());
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total);
        payload.extend_from_chunks(&msg.payload);
        let tag = self
            .cipher
            .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &aad, payload.as_mut())
            .map_err(|_| Error::EncryptError)?;
        payload.extend_from_slice(&tag);
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + TAG_LEN
    }
}

impl MessageDecrypter for Tls12ChaChaRecord {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let Some(plain_len) = payload.len().checked_sub(TAG_LEN) else {
            return Err(Error::DecryptError);
        };
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain_len);
        let (body, tag) = payload.split_at_mut(plain_len);
        self.cipher
            .decrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                &aad,
                body,
                GenericArray::from_slice(tag),
            )
            .map_err(|_| Error::DecryptError)?;
        payload.truncate(plain_len);
        Ok(msg.into_plain_message())
    }
}
