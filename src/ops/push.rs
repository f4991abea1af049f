//! `push`: upload a packaged image to an OCI registry with oci-client.
//! The manifest goes up as the bytes `package` wrote, so the registry's
//! digest is the layout's. Credentials come from the docker config
//! (`~/.docker/config.json` or `$DOCKER_CONFIG`, with its credential
//! helpers); plain HTTP only for a registry on a loopback address.

use super::failure::{Exit, Failure};
use super::oci::{self, Layout};
use super::report::Reporter;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use std::net::IpAddr;
use unik_lang::Diagnostic;

#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Speak plain HTTP (allowed only for loopback registries).
    pub insecure: bool,
}

/// Whether `registry` (`HOST[:PORT]`) is on this machine's loopback.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => registry.rsplit_once(':').map_or(registry, |(h, _)| h),
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn failed(what: String, help: &str) -> Failure {
    Failure::coded(
        Exit::Tool,
        Diagnostic::error("E0709", what).help(help.to_string()),
    )
}

/// The parsed reference, or why it cannot be pushed to (before building).
pub fn check_reference(reference: &str, opts: &PushOptions) -> Result<Reference, Failure> {
    let r: Reference = reference.parse().map_err(|e| {
        Failure::coded(
            Exit::Usage,
            Diagnostic::error("", format!("`{reference}` is not an image reference: {e}"))
                .help("write REGISTRY/REPOSITORY[:TAG], e.g. `127.0.0.1:5000/hello:spt`"),
        )
    })?;
    let registry = r.resolve_registry().to_string();
    if opts.insecure && !is_loopback(&registry) {
        return Err(Failure::coded(
            Exit::Usage,
            Diagnostic::error(
                "",
                format!("--insecure is for registries on this machine, and `{registry}` is not a loopback address"),
            )
            .help("push to a remote registry over HTTPS (drop --insecure)"),
        ));
    }
    Ok(r)
}

/// Pushes `layout` as `reference` (`REGISTRY/REPOSITORY[:TAG]`); returns
/// the manifest digest.
pub fn push(
    layout: &Layout,
    reference: &str,
    opts: &PushOptions,
    rep: &mut dyn Reporter,
) -> Result<String, Failure> {
    let r = check_reference(reference, opts)?;
    let registry = r.resolve_registry().to_string();
    let protocol = if opts.insecure {
        ClientProtocol::HttpsExcept(vec![registry.clone()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig {
        protocol,
        ..Default::default()
    });
    let auth = credentials(&registry, rep)?;
    rep.status(
        "Pushing",
        &format!("{} to {}", layout.manifest.digest, r.whole()),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::plain(Exit::Tool, format!("cannot start the HTTP client: {e}")))?;
    let unreachable = "check the reference, that the registry is running and reachable, \
                       and the credentials in ~/.docker/config.json (`docker login`)";
    runtime.block_on(async {
        client
            .auth(&r, &auth, RegistryOperation::Push)
            .await
            .map_err(|e| failed(format!("cannot log in to {registry}: {e}"), unreachable))?;
        for blob in [&layout.layer, &layout.config] {
            let there = client
                .blob_exists(&r, &blob.digest)
                .await
                .map_err(|e| failed(format!("{registry}: {e}"), unreachable))?;
            if !there {
                client
                    .push_blob(&r, blob.data.clone(), &blob.digest)
                    .await
                    .map_err(|e| {
                        failed(
                            format!("cannot upload {} to {registry}: {e}", blob.digest),
                            unreachable,
                        )
                    })?;
            }
        }
        client
            .push_manifest_raw(
                &r,
                layout.manifest.data.clone(),
                http::HeaderValue::from_static(oci::MANIFEST_TYPE),
            )
            .await
            .map_err(|e| failed(format!("{registry} refused the manifest: {e}"), unreachable))
    })?;
    rep.status(
        "Pushed",
        &format!("{}@{}", r.whole(), layout.manifest.digest),
    );
    Ok(layout.manifest.digest.clone())
}

/// The docker config's credentials for `registry`, or none.
fn credentials(registry: &str, rep: &mut dyn Reporter) -> Result<RegistryAuth, Failure> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    // Docker Hub's credentials are stored under its legacy URL.
    let key = if registry == "index.docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    match docker_credential::get_credential(key) {
        Ok(DockerCredential::UsernamePassword(u, p)) => Ok(RegistryAuth::Basic(u, p)),
        Ok(DockerCredential::IdentityToken(t)) => Ok(RegistryAuth::Bearer(t)),
        Err(E::ConfigNotFound | E::NoCredentialConfigured) => Ok(RegistryAuth::Anonymous),
        // What the crate says when there is no config file at all.
        Err(E::ConfigReadError) if !docker_config().is_some_and(|p| p.exists()) => {
            Ok(RegistryAuth::Anonymous)
        }
        Err(E::ConfigReadError) => {
            rep.warning("the docker config cannot be read; pushing without credentials");
            Ok(RegistryAuth::Anonymous)
        }
        Err(e) => Err(failed(
            format!("cannot get the credentials for {registry}: {e}"),
            "check the docker config's credential helper (`docker login` again)",
        )),
    }
}

/// The docker config file the credentials are read from.
fn docker_config() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
    Some(dir.join("config.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries() {
        for r in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(is_loopback(r), "{r}");
        }
        for r in [
            "registry.example:5000",
            "10.0.0.1:5000",
            "index.docker.io",
            "[2001:db8::1]:5000",
        ] {
            assert!(!is_loopback(r), "{r}");
        }
    }
}
