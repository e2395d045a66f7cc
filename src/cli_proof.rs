//! The command line of what proves the ledger (issue 16 §3): `keys generate`, `verify-export`, and the
//! keys checkpoints and workbooks are signed and verified with.

use crate::actor::Role;
use crate::app::Access;
use crate::config::Config;
use crate::domain::Finess;
use crate::signing::{PublicKey, Signer, DEFAULT_PRIVATE_KEY_FILE, DEFAULT_PUBLIC_KEY_FILE};
use crate::store::checkpoint::{Checkpoint, CheckpointKeys};
use crate::store::EventStore;
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Génère une paire de clés Ed25519 : la clé privée (lisible par son seul propriétaire) signe les
    /// checkpoints et les classeurs exportés ; la clé publique, à remettre aux auditeurs, les vérifie
    /// sans pouvoir signer. Exemple : care-ledger keys generate --private /etc/care-ledger/cle.pem
    Generate {
        /// Fichier de la clé privée (créé en mode 0600, jamais écrasé).
        #[arg(long, default_value = DEFAULT_PRIVATE_KEY_FILE)]
        private: PathBuf,
        /// Fichier de la clé publique.
        #[arg(long, default_value = DEFAULT_PUBLIC_KEY_FILE)]
        public: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct VerifyExportArgs {
    /// Le classeur exporté (.xlsx) à vérifier.
    pub file: PathBuf,
    /// Clé publique de confiance (PEM), répétable ; par défaut celle de la clé privée configurée
    /// (signing_key_file). Exemple : --public-key care-ledger-cle-publique.pem
    #[arg(long = "public-key", value_name = "FICHIER")]
    pub public_key: Vec<PathBuf>,
    /// Qui vérifie (ROLE:ID) ; par défaut un opérateur, qui voit tout. Exemple : --as controleur:marie
    #[arg(long = "as", value_name = "ROLE:ID", default_value = "admin:cli")]
    pub actor: String,
    /// Pour un établissement : son FINESS.
    #[arg(long)]
    pub candidate: Option<String>,
    /// Le résultat complet en JSON.
    #[arg(long)]
    pub json: bool,
}

/// The configured signing key (`signing_key_file`), if any.
pub fn signer(config: &Config) -> anyhow::Result<Option<Signer>> {
    config
        .signing_key_file
        .as_deref()
        .map(Signer::load)
        .transpose()
        .map_err(|e| anyhow!("clé de signature (signing_key_file) : {e}"))
}

/// The trusted public keys: the files given, else the configured signing key's.
pub fn trusted_keys(config: &Config, files: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    let mut keys = Vec::new();
    for file in files {
        keys.push(PublicKey::load(file).map_err(|e| anyhow!("--public-key : {e}"))?);
    }
    if keys.is_empty() {
        if let Some(signer) = signer(config)? {
            keys.push(signer.public());
        }
    }
    Ok(keys)
}

/// A checkpoint of the ledger's head: Ed25519 with the configured signing key; HMAC (format v1) only
/// when no signing key but an HMAC key is configured.
pub async fn take_checkpoint(store: &EventStore, config: &Config) -> anyhow::Result<Checkpoint> {
    if let Some(signer) = signer(config)? {
        return Ok(Checkpoint::take_signed(store, &signer).await?);
    }
    let key = config.checkpoint_key.as_ref().ok_or_else(|| {
        anyhow!(
            "aucune clé de signature : générez-en une (care-ledger keys generate) et nommez-la \
             dans la configuration (signing_key_file ou CARE_LEDGER_SIGNING_KEY_FILE)"
        )
    })?;
    eprintln!(
        "avertissement : checkpoint signé par HMAC (la clé qui le vérifie peut aussi en fabriquer) ; \
         préférez une clé Ed25519 (care-ledger keys generate, signing_key_file)"
    );
    Ok(Checkpoint::take(store, key.expose().as_bytes()).await?)
}

/// Reads and verifies a checkpoint file: Ed25519 with the public keys given (or the configured
/// signing key's), HMAC with the configured HMAC key.
pub fn read_checkpoint(
    path: &Path,
    config: &Config,
    public_keys: &[PathBuf],
) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("lecture impossible de {}", path.display()))?;
    let keys = CheckpointKeys {
        public_keys: trusted_keys(config, public_keys)?,
        hmac_key: config
            .checkpoint_key
            .as_ref()
            .map(|k| k.expose().as_bytes().to_vec()),
    };
    Ok(Checkpoint::parse_and_verify(&text, &keys)?)
}

pub fn keys(cmd: KeysCmd) -> anyhow::Result<()> {
    match cmd {
        KeysCmd::Generate { private, public } => {
            let signer = Signer::generate();
            signer.write_new(&private, &public)?;
            println!(
                "clé privée : {} (lisible par son seul propriétaire ; à nommer dans la \
                 configuration : signing_key_file = \"{}\")",
                private.display(),
                private.display()
            );
            println!(
                "clé publique : {} (à remettre aux auditeurs : elle vérifie checkpoints et \
                 classeurs, elle ne signe pas)",
                public.display()
            );
            println!("identifiant de la clé : {}", signer.public().key_id());
            Ok(())
        }
    }
}

/// `verify-export`: exit code 0 when the workbook shows the ledger's figures, 2 otherwise.
pub async fn verify_export(config: &Config, args: VerifyExportArgs) -> anyhow::Result<ExitCode> {
    let actor = crate::cli::parse_actor(&args.actor)?;
    let candidate = match (&args.candidate, actor.role) {
        (Some(c), Role::Etablissement) => {
            Some(Finess::parse(c).map_err(|e| anyhow!("--candidate : {e}"))?)
        }
        (None, Role::Etablissement) => {
            return Err(anyhow!("--candidate : obligatoire pour un établissement"))
        }
        _ => None,
    };
    let keys = trusted_keys(config, &args.public_key)?;
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("lecture impossible de {}", args.file.display()))?
        .len();
    if size > config.max_upload_bytes as u64 {
        return Err(anyhow!(
            "{} : fichier trop volumineux ({size} octets, au plus {})",
            args.file.display(),
            config.max_upload_bytes
        ));
    }
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("lecture impossible de {}", args.file.display()))?;
    let ledger = crate::cli_ops::open_ledger(config).await?;
    let verification = ledger
        .verify_export(
            &Access::new(actor, candidate),
            &bytes,
            config.max_upload_bytes,
            &keys,
        )
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
    } else {
        println!("{} : {}", args.file.display(), verification.verdict_fr);
        println!(
            "  candidat {}, domaine {}, classeur établi pour le rôle {}, situation {}, généré le {}",
            verification.finess,
            verification.domain,
            verification.viewer,
            verification.as_of,
            verification.generated_at
        );
        for d in &verification.differences {
            println!("  - {}", d.message_fr);
        }
        if verification.differences_not_listed > 0 {
            println!(
                "  … et {} autre(s) différence(s) non listée(s)",
                verification.differences_not_listed
            );
        }
    }
    Ok(if verification.matches_ledger {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
