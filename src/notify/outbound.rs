//! Where the sender may connect: `notify.allowed_hosts`. A notify URL can come from a seeded
//! payment, so on a shared deployment anyone with the admin token (or a config mistake) could
//! turn the sender on the network it runs in. Empty means anywhere, for local use.
//!
//! An entry is a host name (`merchant.example`), a wildcard for its subdomains
//! (`*.merchant.example`), an address (`10.1.2.3`, `::1`) or a network (`10.0.0.0/8`). A URL whose
//! host name is listed may connect to whatever the name resolves to; any other host is
//! resolved by the gateway itself and may connect only to the listed addresses and networks,
//! so a name cannot point the sender somewhere the list does not allow (the check and the
//! connection use the same resolution).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a notify URL or an allow-list entry is refused; the text names the entry, URL or host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// An entry of `notify.allowed_hosts` that is none of the four forms.
    #[error("{entry:?} is not a host name, *.domain, address or network (10.0.0.0/8)")]
    Entry {
        /// The entry as written.
        entry: String,
    },
    /// A URL that does not parse.
    #[error("{url:?} is not a URL: {problem}")]
    NotUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        problem: url::ParseError,
    },
    /// A URL without a host.
    #[error("{url:?} has no host")]
    NoHost {
        /// The URL as given.
        url: String,
    },
    /// A notify URL that is not absolute http or https.
    #[error("{url:?} must be an http:// or https:// URL")]
    NotHttp {
        /// The URL as given.
        url: String,
    },
    /// An address outside every listed network.
    #[error("address {0} is not in notify.allowed_hosts; the gateway does not send there")]
    Address(IpAddr),
    /// A host name that is not listed, with no network listed to judge its addresses.
    #[error("host {0} is not in notify.allowed_hosts; the gateway does not send there")]
    Host(String),
}

/// A notify URL must be absolute http or https.
pub fn check_notify_url(url: &str) -> Result<(), OutboundError> {
    let parsed = url::Url::parse(url).map_err(|problem| OutboundError::NotUrl {
        url: url.to_owned(),
        problem,
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(OutboundError::NotHttp {
            url: url.to_owned(),
        });
    }
    Ok(())
}

/// The allow-list, parsed.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    names: Vec<String>,
    suffixes: Vec<String>,
    networks: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Parses the entries of `notify.allowed_hosts`; `Err` names the entry that is none of the
    /// four forms.
    pub fn parse(entries: &[String]) -> Result<Self, OutboundError> {
        let mut policy = Self::default();
        for entry in entries {
            let entry = entry.trim();
            if let Ok(net) = entry.parse::<IpNet>() {
                policy.networks.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else if let Some(domain) = entry.strip_prefix("*.") {
                policy.suffixes.push(host_name(domain, entry)?);
            } else {
                policy.names.push(host_name(entry, entry)?);
            }
        }
        Ok(policy)
    }

    /// Loopback alone: `localhost`, 127.0.0.0/8 and ::1.
    pub fn loopback() -> Self {
        Self {
            names: vec!["localhost".to_owned()],
            suffixes: Vec::new(),
            networks: ["127.0.0.0/8", "::1/128"]
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
        }
    }

    /// This policy, or [`OutboundPolicy::loopback`] where it has no entries: what run-time
    /// clients and namespaces may send to, so that a namespace token never reaches the
    /// network the gateway sits in unless `notify.allowed_hosts` says so.
    pub fn or_loopback(&self) -> Self {
        if self.allows_anywhere() {
            Self::loopback()
        } else {
            self.clone()
        }
    }

    /// No entries: the sender may connect anywhere.
    pub fn allows_anywhere(&self) -> bool {
        self.names.is_empty() && self.suffixes.is_empty() && self.networks.is_empty()
    }

    /// Whether a URL whose host is `host` may be sent to before any name is resolved: a
    /// listed name, a listed address, or a name that resolution will then judge. `Err` says why
    /// not, naming the host.
    pub fn check_host(&self, host: &url::Host<&str>) -> Result<(), OutboundError> {
        if self.allows_anywhere() {
            return Ok(());
        }
        match host {
            url::Host::Ipv4(ip) if !self.allows_address(IpAddr::V4(*ip)) => {
                Err(OutboundError::Address(IpAddr::V4(*ip)))
            }
            url::Host::Ipv6(ip) if !self.allows_address(IpAddr::V6(*ip)) => {
                Err(OutboundError::Address(IpAddr::V6(*ip)))
            }
            url::Host::Domain(name) if !self.allows_name(name) && self.networks.is_empty() => {
                Err(OutboundError::Host((*name).to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// [`OutboundPolicy::check_host`] for a whole URL.
    pub fn check_url(&self, url: &str) -> Result<(), OutboundError> {
        let parsed = url::Url::parse(url).map_err(|problem| OutboundError::NotUrl {
            url: url.to_owned(),
            problem,
        })?;
        match parsed.host() {
            Some(host) => self.check_host(&host),
            None => Err(OutboundError::NoHost {
                url: url.to_owned(),
            }),
        }
    }

    fn allows_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&name)
            || self.suffixes.iter().any(|s| {
                name.len() > s.len()
                    && name.ends_with(s.as_str())
                    && name[..name.len() - s.len()].ends_with('.')
            })
    }

    fn allows_address(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address is the IPv4 address it maps.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// A resolver for the sender's HTTP client that applies the policy to what a name
    /// resolves to.
    pub fn resolver(self: &Arc<Self>) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver {
            policy: Arc::clone(self),
        })
    }
}

/// `domain` lower-cased, if it is a plausible host name.
fn host_name(domain: &str, entry: &str) -> Result<String, OutboundError> {
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if valid {
        Ok(domain.to_ascii_lowercase())
    } else {
        Err(OutboundError::Entry {
            entry: entry.to_owned(),
        })
    }
}

/// Resolves with the system resolver, then keeps only the addresses the policy allows.
#[derive(Debug)]
pub struct PolicyResolver {
    policy: Arc<OutboundPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if policy.allows_anywhere() || policy.allows_name(&host) {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.allows_address(a.ip()))
                .collect();
            if allowed.is_empty() {
                let addresses: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "host {host} resolves to {}: none is in notify.allowed_hosts; the gateway does not send there",
                    addresses.join(", ")
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    fn host(url: &str) -> Result<(), OutboundError> {
        let url = url::Url::parse(url).unwrap();
        policy(&["merchant.example", "*.shop.example", "10.0.0.0/8", "::1"])
            .check_host(&url.host().unwrap())
    }

    #[test]
    fn an_empty_list_allows_anywhere() {
        let url = url::Url::parse("http://169.254.169.254/latest").unwrap();
        assert!(policy(&[]).check_host(&url.host().unwrap()).is_ok());
    }

    #[test]
    fn listed_names_subdomains_addresses_and_networks_are_allowed() {
        assert!(host("https://merchant.example/notify").is_ok());
        assert!(host("https://MERCHANT.example./notify").is_ok());
        assert!(host("https://a.b.shop.example/notify").is_ok());
        assert!(host("http://10.20.30.40:8080/notify").is_ok());
        assert!(host("http://[::1]:8080/notify").is_ok());
    }

    #[test]
    fn an_address_outside_every_network_is_refused_naming_it() {
        let refused = host("http://169.254.169.254/latest")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("address 169.254.169.254"), "{refused}");
        assert!(refused.contains("notify.allowed_hosts"), "{refused}");
        assert!(host("http://[::ffff:127.0.0.1]/").is_err());
        assert!(
            host("http://[::ffff:10.1.2.3]/").is_ok(),
            "a mapped IPv4 address is that address"
        );
        assert!(
            host("http://[::ffff:10.1.2.3]/").is_ok(),
            "a mapped IPv4 address is that address"
        );
    }

    #[test]
    fn a_wildcard_is_for_subdomains_not_the_domain_nor_look_alikes() {
        let p = policy(&["*.shop.example"]);
        assert!(p.allows_name("pay.shop.example"));
        assert!(!p.allows_name("shop.example"));
        assert!(!p.allows_name("evilshop.example"));
    }

    #[test]
    fn an_unlisted_name_waits_for_resolution_only_when_networks_are_listed() {
        let names_only = policy(&["merchant.example"]);
        let url = url::Url::parse("http://other.example/").unwrap();
        assert!(names_only.check_host(&url.host().unwrap()).is_err());
        let with_network = policy(&["127.0.0.0/8"]);
        assert!(with_network.check_host(&url.host().unwrap()).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_outside_the_networks_is_refused_by_the_resolver() {
        let p = Arc::new(policy(&["10.0.0.0/8"]));
        let refused = p
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is not in 10.0.0.0/8");
        assert!(refused.to_string().contains("resolves to"), "{refused}");
        let allowed = Arc::new(policy(&["127.0.0.0/8", "::1"]));
        let addrs: Vec<SocketAddr> = allowed
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }

    #[test]
    fn an_entry_of_no_form_is_refused_naming_it() {
        let e = OutboundPolicy::parse(&["http://merchant.example".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://merchant.example"), "{e}");
    }
}
