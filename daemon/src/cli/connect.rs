//! `tradelane connect SELLER/CHANNEL`: obtain a channel's first refresh
//! token on a headless server, as rclone's `authorize` does.
//!
//! 1. The channel's plugin declares an OAuth client with a consent page
//!    (`authorize-url`); tradelane prints the consent URL, with a random
//!    `state`.
//! 2. The seller opens it anywhere, agrees, and pastes back the URL the
//!    browser was sent to (or just its `code`).
//! 3. tradelane checks the `state`, exchanges the code at the token
//!    endpoint (the channel's host policy applies), writes the refresh
//!    token to `data_dir/credentials/` (0600, written whole then renamed),
//!    and prints the config line that refers to it.
//!
//! `--self-authorized` skips the consent page: paste a refresh token the
//! marketplace gave directly (Amazon's self-authorisation of a private app).

use crate::assemble::oauth::fill_settings;
use crate::assemble::settings::{host_policy, resolve};
use crate::assemble::{load_one, oauth};
use crate::config::{Connection, LoadedConfig};
use crate::egress::{ChannelEgress, Egress, EgressSettings, HttpEgress};
use crate::host::PluginHost;
use crate::model::{OAuthClient, OAuthClientAuth, OAuthGrant};
use anyhow::{Context, bail};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// Run `connect` for `target` (`seller/channel`). `pasted` stands in for
/// standard input (tests and scripts: the redirect URL or code).
pub async fn connect(
    config_path: &Path,
    target: &str,
    self_authorized: bool,
    pasted: Option<String>,
) -> anyhow::Result<i32> {
    let config = LoadedConfig::load(config_path)?;
    let (seller, channel_id) = target
        .split_once('/')
        .with_context(|| format!("`{target}` is not SELLER/CHANNEL"))?;
    let (si, ci, channel) = config
        .config
        .sellers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.id.get_ref() == seller)
        .flat_map(|(si, s)| {
            s.channels
                .iter()
                .enumerate()
                .map(move |(ci, c)| (si, ci, c))
        })
        .find(|(_, _, c)| c.id.get_ref() == channel_id)
        .with_context(|| format!("no channel `{target}` in {}", config_path.display()))?;
    let prefix = format!("sellers[{si}].channels[{ci}]");
    let host = PluginHost::new(None)?;
    let plugin = load_one(&config, &host, channel.plugin().get_ref()).await?;
    let client = plugin
        .manifest
        .oauth
        .iter()
        .find(|c| c.grant == OAuthGrant::RefreshToken)
        .cloned()
        .with_context(|| {
            format!(
                "plugin `{}` of {target} has no OAuth client with a refresh token: nothing to connect",
                plugin.manifest.name
            )
        })?;
    let refresh_key = client
        .refresh_token_setting
        .clone()
        .context("the OAuth client names no refresh-token setting")?;
    // The refresh token is what this command obtains: not required yet.
    let mut manifest = plugin.manifest.clone();
    for s in &mut manifest.settings {
        if s.key == refresh_key {
            s.required = false;
        }
    }
    let resolved = resolve(&config, &prefix, channel, &manifest)?;
    let value = |key: &str| resolved.value(key).map(|v| v.expose().to_string());

    let refresh_token = if self_authorized {
        eprintln!(
            "Paste the refresh token {target}'s marketplace gave you (for Amazon: Seller Central → Apps and Services → Develop Apps → Authorize):"
        );
        read_line(pasted)?
    } else {
        let authorize = client.authorize_url.clone().with_context(|| {
            format!(
                "plugin `{}` declares no consent page; use --self-authorized with a refresh token",
                plugin.manifest.name
            )
        })?;
        let authorize =
            fill_settings(&authorize, &|key| resolved.plain(key)).map_err(anyhow::Error::msg)?;
        let client_id = value(&client.client_id_setting)
            .with_context(|| format!("set `{}` first", client.client_id_setting))?;
        let redirect = match &client.redirect_uri_setting {
            Some(key) => Some(value(key).with_context(|| {
                format!("set `{key}` (the redirect URI registered with the app) first")
            })?),
            None => None,
        };
        let state = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        // A public client proves the consent is its own with PKCE.
        let pkce = (client.client_auth == OAuthClientAuth::Public).then(Pkce::new);
        let mut url = reqwest::Url::parse(&authorize)
            .with_context(|| format!("`{authorize}` is not a URL"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &client_id)
                .append_pair("response_type", "code")
                .append_pair("state", &state);
            if let Some(p) = &pkce {
                q.append_pair("code_challenge", &p.challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            if let Some(r) = &redirect {
                q.append_pair("redirect_uri", r);
            }
            if !client.scopes.is_empty() {
                q.append_pair("scope", &client.scopes.join(" "));
            }
        }
        println!("Open this page, sign in as the seller and agree:\n\n  {url}\n");
        println!("Then paste the address your browser was sent to (or just its code):");
        std::io::stdout().flush().ok();
        let answer = read_line(pasted)?;
        let code = code_from(&answer, &state)?;
        exchange(
            &config,
            &prefix,
            channel,
            &manifest,
            &resolved,
            &client,
            &code,
            redirect.as_deref(),
            pkce.as_ref().map(|p| p.verifier.as_str()),
        )
        .await?
    };
    if refresh_token.trim().is_empty() {
        bail!("no refresh token");
    }
    let path = save_credential(
        &config.data_dir(),
        seller,
        channel_id,
        &client.name,
        refresh_token.trim(),
    )?;
    println!(
        "\nSaved the refresh token to {} (0600). In {}, under [sellers.channels.settings] of {target}, write:\n\n  {refresh_key} = {{ file = \"{}\" }}\n\nthen restart tradelane.",
        path.display(),
        config_path.display(),
        path.display()
    );
    Ok(0)
}

/// A PKCE pair (RFC 7636): a random verifier of 64 unreserved characters,
/// and its `S256` challenge, `BASE64URL(SHA256(verifier))` unpadded.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    pub fn new() -> Self {
        const UNRESERVED: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let mut rng = fastrand::Rng::with_seed(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()).rotate_left(32)
                ^ fastrand::u64(..),
        );
        let verifier: String = (0..64)
            .map(|_| char::from(UNRESERVED[rng.usize(..UNRESERVED.len())]))
            .collect();
        Self::from_verifier(verifier)
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: String) -> Self {
        use base64::Engine as _;
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(verifier.as_bytes());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

fn read_line(pasted: Option<String>) -> anyhow::Result<String> {
    if let Some(p) = pasted {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading standard input")?;
    Ok(line.trim().to_string())
}

/// The authorization code in what the seller pasted: a redirect URL (its
/// `state` must be ours) or the bare code. Amazon names it `spapi_oauth_code`.
pub fn code_from(pasted: &str, state: &str) -> anyhow::Result<String> {
    let pasted = pasted.trim();
    if !(pasted.starts_with("http://") || pasted.starts_with("https://")) {
        if pasted.is_empty() {
            bail!("nothing was pasted");
        }
        return Ok(pasted.to_string());
    }
    let url = reqwest::Url::parse(pasted).context("the pasted address is not a URL")?;
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = get("error") {
        bail!(
            "the consent page answered `{error}`: {}",
            get("error_description").unwrap_or_default()
        );
    }
    if get("state").as_deref() != Some(state) {
        bail!(
            "the pasted address is not the answer to this consent request (its `state` differs); run `tradelane connect` again"
        );
    }
    get("code")
        .or_else(|| get("spapi_oauth_code"))
        .context("the pasted address carries no `code`")
}

/// Exchange `code` for tokens at the client's token endpoint.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    config: &LoadedConfig,
    prefix: &str,
    channel: &dyn Connection,
    manifest: &crate::model::Manifest,
    resolved: &crate::assemble::settings::ResolvedSettings,
    client: &OAuthClient,
    code: &str,
    redirect: Option<&str>,
    code_verifier: Option<&str>,
) -> anyhow::Result<String> {
    // The same resolution the daemon uses, less the refresh token.
    let mut probe = resolved.clone();
    let placeholder = crate::egress::Secret::new("-");
    if let Some(key) = &client.refresh_token_setting {
        probe.secrets.entry(key.clone()).or_insert(placeholder);
    }
    let clients =
        oauth::clients(manifest, &probe).map_err(|(k, why)| anyhow::anyhow!("`{k}` {why}"))?;
    let resolved_client = clients
        .into_iter()
        .find(|c| c.spec.name == client.name)
        .context("the OAuth client vanished")?;
    let mut fields = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
    ];
    if let Some(r) = redirect {
        fields.push(("redirect_uri", r.to_string()));
    }
    if let Some(v) = code_verifier {
        fields.push(("code_verifier", v.to_string()));
    }
    let mut policy = host_policy(config, prefix, channel, manifest, resolved)?;
    policy.follow_redirects = false;
    let egress = ChannelEgress {
        label: format!("{prefix} (connect)"),
        policy,
        secrets: Default::default(),
        bucket: None,
        operations: Default::default(),
        retry: Default::default(),
        oauth: None,
    };
    let http = HttpEgress::new(EgressSettings::default());
    let response = http
        .send(&egress, resolved_client.token_request(fields))
        .await
        .map_err(|e| anyhow::anyhow!("token endpoint {}: {e}", resolved_client.token_url))?;
    let answer: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    if !(200..300).contains(&response.status) {
        bail!(
            "the token endpoint refused the code (HTTP {}): {} {}",
            response.status,
            crate::text::plain(answer["error"].as_str().unwrap_or("")),
            crate::text::plain(answer["error_description"].as_str().unwrap_or(""))
        );
    }
    answer["refresh_token"]
        .as_str()
        .map(str::to_string)
        .context("the token endpoint answered without a refresh_token")
}

/// Write `token` to `data_dir/credentials/SELLER-CHANNEL-CLIENT.refresh_token`,
/// 0600, whole (a temporary file renamed over it).
pub fn save_credential(
    data_dir: &Path,
    seller: &str,
    channel: &str,
    client: &str,
    token: &str,
) -> anyhow::Result<PathBuf> {
    let dir = data_dir.join("credentials");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let path = dir.join(format!(
        "{}-{}-{}.refresh_token",
        safe(seller),
        safe(channel),
        safe(client)
    ));
    let tmp = path.with_extension("refresh_token.tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(token.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_own_example() {
        // RFC 7636, Appendix B.
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let fresh = Pkce::new();
        assert_eq!(fresh.verifier.len(), 64);
        assert_ne!(fresh.verifier, Pkce::new().verifier);
    }

    #[test]
    fn the_code_comes_from_our_own_redirect_only() {
        let url = "https://signin.example/accepted?state=abc&code=v%5E1.1%23code&expires_in=299";
        assert_eq!(code_from(url, "abc").unwrap(), "v^1.1#code");
        assert!(code_from(url, "other").is_err(), "another request's answer");
        assert_eq!(code_from("  bare-code ", "abc").unwrap(), "bare-code");
        assert!(code_from("https://x/?state=abc&error=access_denied", "abc").is_err());
        assert_eq!(
            code_from("https://x/?state=abc&spapi_oauth_code=ANxyz", "abc").unwrap(),
            "ANxyz"
        );
        assert!(code_from("", "abc").is_err());
    }

    #[test]
    fn credentials_are_private_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = save_credential(dir.path(), "demo", "ebay/x", "ebay", "v^1.1#r").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v^1.1#r");
        assert!(path.ends_with("credentials/demo-ebay_x-ebay.refresh_token"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
