//! What demo data is made of: the APIs, their routes, the names, scopes and tags of keys, and
//! the client addresses and user agents calls come from. Constant tables and small pure
//! helpers; nothing here touches the database.

/// An API of the demo catalog, with the calls its clients make. `#` in a path stands for an
/// id, which the generator fills in (rollups fold it back to `{id}`).
pub struct ApiSpec {
    pub name: &'static str,
    pub slug: &'static str,
    pub description: &'static str,
    /// (method and path, relative weight)
    pub routes: &'static [(&'static str, u32)],
    /// The upstream's median answer time, milliseconds.
    pub median_ms: f64,
}

pub const APIS: [ApiSpec; 4] = [
    ApiSpec {
        name: "Payments",
        slug: "payments",
        description: "Charges, refunds and customers.",
        routes: &[
            ("GET /v1/charges", 30),
            ("POST /v1/charges", 12),
            ("GET /v1/charges/#", 25),
            ("POST /v1/refunds", 3),
            ("GET /v1/customers/#", 15),
            ("PATCH /v1/customers/#", 4),
        ],
        median_ms: 45.0,
    },
    ApiSpec {
        name: "Search",
        slug: "search",
        description: "Full-text search and suggestions.",
        routes: &[
            ("GET /v2/search", 60),
            ("GET /v2/suggest", 30),
            ("POST /v2/indexes/#/documents", 5),
            ("DELETE /v2/indexes/#/documents/#", 1),
        ],
        median_ms: 18.0,
    },
    ApiSpec {
        name: "Maps",
        slug: "maps",
        description: "Geocoding, routing and map tiles.",
        routes: &[
            ("GET /v1/geocode", 40),
            ("GET /v1/reverse", 25),
            ("GET /v1/routes", 20),
            ("GET /v1/tiles/#/#/#", 60),
        ],
        median_ms: 30.0,
    },
    ApiSpec {
        name: "Messaging",
        slug: "messaging",
        description: "SMS and chat messages.",
        routes: &[
            ("POST /v1/messages", 50),
            ("GET /v1/messages/#", 20),
            ("GET /v1/conversations", 10),
            ("POST /v1/webhooks/test", 1),
        ],
        median_ms: 60.0,
    },
];

pub const TEAMS: [&str; 12] = [
    "billing", "checkout", "search", "mobile", "web", "data", "ops", "partners", "growth",
    "support", "maps", "ml",
];
pub const ENVS: [&str; 3] = ["prod", "staging", "dev"];
pub const SCOPES: [&str; 6] = [
    "read",
    "write",
    "admin",
    "billing:read",
    "billing:write",
    "reports:read",
];
pub const TAGS: [&str; 6] = ["prod", "staging", "dev", "mobile", "backend", "partner"];

pub const USER_AGENTS: [&str; 6] = [
    "python-requests/2.32.3",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "curl/8.9.1",
    "acme-sdk-ruby/3.4.1",
];

/// A stable 64-bit mix of `n` (splitmix64's finaliser): per-key choices that must not
/// depend on the order the generator draws in.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A client address of key number `n`: one in ten clients speaks IPv6 (2001:db8::/32), the
/// rest come from 100.64.0.0/10. Both ranges are reserved, so demo data never names a real
/// host. `variant` picks among a client's few machines.
pub fn client_ip(n: u64, variant: u8) -> String {
    let h = mix(n);
    if h.is_multiple_of(10) {
        let a = (h >> 8) as u16;
        let b = (h >> 24) as u16;
        format!("2001:db8:{a:x}:{b:x}::{:x}", u16::from(variant) + 1)
    } else {
        // 100.64.0.0/10: 22 bits below the fixed prefix.
        let host = ((h >> 8) as u32 & 0x003f_ff00) | u32::from(variant.wrapping_add(10));
        let addr = (100u32 << 24) | (64u32 << 16) | host;
        std::net::Ipv4Addr::from(addr).to_string()
    }
}

/// Addresses that try keys that do not exist (documentation ranges); the first is a
/// persistent scanner, the others occasional.
pub fn scanner_ip(rank: usize) -> String {
    if rank == 0 {
        "203.0.113.66".to_string()
    } else {
        format!("198.51.100.{}", 1 + rank % 250)
    }
}

/// A key's name from the naming habit `{team}-{env}-{n}`.
pub fn key_name(n: u64) -> String {
    let h = mix(n ^ 0x6b65_795f);
    format!(
        "{}-{}-{}",
        TEAMS[(h % TEAMS.len() as u64) as usize],
        ENVS[((h >> 8) % ENVS.len() as u64) as usize],
        n % 1000 + 1
    )
}

/// Fills each `#` of a route with an id drawn from `id`.
pub fn concrete_path(route: &str, mut id: impl FnMut() -> u32) -> String {
    let mut out = String::with_capacity(route.len() + 16);
    for c in route.chars() {
        if c == '#' {
            out.push_str(&id().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analytics::rollup::route_of;

    #[test]
    fn client_addresses_parse_and_stay_in_reserved_ranges() {
        for n in 0..2_000 {
            let ip: std::net::IpAddr = client_ip(n, (n % 3) as u8).parse().unwrap();
            match ip {
                std::net::IpAddr::V4(v4) => {
                    let o = v4.octets();
                    assert_eq!(o[0], 100);
                    assert!((64..128).contains(&o[1]), "{v4} outside 100.64.0.0/10");
                }
                std::net::IpAddr::V6(v6) => assert_eq!(v6.segments()[..2], [0x2001, 0xdb8]),
            }
            assert_eq!(ip.to_canonical().to_string(), client_ip(n, (n % 3) as u8));
        }
        assert_eq!(client_ip(7, 1), client_ip(7, 1), "stable per key");
    }

    #[test]
    fn routes_fold_back_to_their_templates() {
        for api in &APIS {
            for (route, _) in api.routes {
                let path = concrete_path(route, || 4711);
                assert!(!path.contains('#'));
                assert_eq!(route_of(&path), route.replace('#', "{id}"));
            }
        }
    }
}
