//! Ed25519 keys of the service (issue 16 §3): one private key signs checkpoints and exported
//! workbooks; its public key, handed to auditors, verifies them and cannot sign. Keys are files in the
//! standard PEM encodings (PKCS#8 for the private key, SubjectPublicKeyInfo for the public key), so an
//! auditor may also check a signature with other tools.
//!
//! `care-ledger keys generate` writes the private key readable by its owner only (mode 0600) and never
//! overwrites a file; loading a private key readable by anyone else is refused, as ssh does.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File names `keys generate` writes by default.
pub const DEFAULT_PRIVATE_KEY_FILE: &str = "care-ledger-cle-privee.pem";
pub const DEFAULT_PUBLIC_KEY_FILE: &str = "care-ledger-cle-publique.pem";
/// A key file larger than this is not a key (PEM of an Ed25519 key: about 120 bytes).
const MAX_KEY_FILE_BYTES: u64 = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path} : lecture impossible ({source})")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} existe déjà : une clé n'est jamais écrasée (choisissez un autre fichier)")]
    Exists { path: PathBuf },
    #[error("{path} : écriture impossible ({source})")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} : ce n'est pas une clé privée Ed25519 au format PEM (PKCS#8)")]
    NotPrivateKey { path: PathBuf },
    #[error("{path} : ce n'est pas une clé publique Ed25519 au format PEM")]
    NotPublicKey { path: PathBuf },
    #[error(
        "{path} : la clé privée est lisible par d'autres que son propriétaire (droits {mode:03o}) ; \
         restreignez-la avec « chmod 600 {path} »"
    )]
    TooOpen { path: PathBuf, mode: u32 },
}

/// The private key that signs (checkpoints, workbooks). Its Debug shows only the key id.
pub struct Signer {
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.public().key_id())
    }
}

impl Signer {
    /// A new key from the operating system's random source.
    pub fn generate() -> Signer {
        Signer {
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Reads a private key file (PEM, PKCS#8); refused when others may read it (Unix).
    pub fn load(path: &Path) -> Result<Signer, KeyError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|source| KeyError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        let text = read_small(path)?;
        let key = SigningKey::from_pkcs8_pem(text.trim()).map_err(|_| KeyError::NotPrivateKey {
            path: path.to_path_buf(),
        })?;
        Ok(Signer { key })
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// The signature of a message, hex-encoded (128 characters).
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).to_bytes())
    }

    /// Writes the private key (mode 0600) and its public key; refuses to overwrite either file.
    pub fn write_new(&self, private_path: &Path, public_path: &Path) -> Result<(), KeyError> {
        for path in [private_path, public_path] {
            if path.exists() {
                return Err(KeyError::Exists {
                    path: path.to_path_buf(),
                });
            }
        }
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| KeyError::NotPrivateKey {
                path: private_path.to_path_buf(),
            })?;
        write_new_file(private_path, pem.as_bytes(), true)?;
        write_new_file(public_path, self.public().to_pem().as_bytes(), false)
    }
}

/// A public key: verifies, never signs.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = read_small(path)?;
        PublicKey::from_pem(&text).ok_or_else(|| KeyError::NotPublicKey {
            path: path.to_path_buf(),
        })
    }

    pub fn from_pem(text: &str) -> Option<PublicKey> {
        VerifyingKey::from_public_key_pem(text.trim())
            .ok()
            .map(|key| PublicKey { key })
    }

    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// The key's identifier written beside each signature: the first 16 bytes of the SHA-256 of the
    /// public key, hex-encoded.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.key.as_bytes());
        hex::encode(&digest[..16])
    }

    /// Whether `signature_hex` is this key's signature of `message` (strict verification: no
    /// malleable or small-order signature is accepted).
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(bytes) = hex::decode(signature_hex.trim()) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let signature = Signature::from_bytes(&bytes);
        self.key.verify_strict(message, &signature).is_ok()
    }
}

fn read_small(path: &Path) -> Result<String, KeyError> {
    let read = |source| KeyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut text = String::new();
    use std::io::Read;
    file.take(MAX_KEY_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(read)?;
    Ok(text)
}

fn write_new_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|source| KeyError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_public_key_and_not_after_any_change() {
        let signer = Signer::generate();
        let public = signer.public();
        let signature = signer.sign(b"position 42");
        assert!(public.verify(b"position 42", &signature));
        assert!(!public.verify(b"position 43", &signature));
        let mut forged = signature.clone().into_bytes();
        forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
        assert!(!public.verify(b"position 42", &String::from_utf8(forged).unwrap()));
        assert!(!Signer::generate()
            .public()
            .verify(b"position 42", &signature));
        assert!(!public.verify(b"position 42", "not hex"));
        assert!(!public.verify(b"position 42", "abcd"));
    }

    #[test]
    fn keys_round_trip_through_their_files_and_the_private_one_is_for_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("k.pem");
        let public = dir.path().join("k.pub.pem");
        let signer = Signer::generate();
        signer.write_new(&private, &public).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let loaded = Signer::load(&private).unwrap();
        assert_eq!(loaded.public(), signer.public());
        assert_eq!(PublicKey::load(&public).unwrap(), signer.public());
        assert!(matches!(
            signer.write_new(&private, &dir.path().join("other.pem")),
            Err(KeyError::Exists { .. })
        ));
        // The public key file is not a private key, and the reverse.
        assert!(matches!(
            PublicKey::load(&private),
            Err(KeyError::NotPublicKey { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(matches!(
                Signer::load(&public),
                Err(KeyError::NotPrivateKey { .. })
            ));
            std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = Signer::load(&private).unwrap_err();
            assert!(matches!(err, KeyError::TooOpen { mode: 0o644, .. }));
            assert!(err.to_string().contains("chmod 600"));
        }
    }
}
