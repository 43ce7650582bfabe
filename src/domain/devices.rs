//! A readable device from a user agent: "Chrome on Linux", "Safari on iOS", "curl",
//! "Unknown device". A small table of our own, not a full UA database: the sessions page
//! only needs to let people recognise their own devices.

/// Browsers, most specific first: Edge and Opera also say "Chrome", Chrome also says
/// "Safari", and only Safari is left when nothing else matched.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("Opera", "Opera"),
    ("Vivaldi/", "Vivaldi"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("YaBrowser/", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Operating systems, most specific first (Android says "Linux", iOS says "like Mac OS X").
const SYSTEMS: &[(&str, &str)] = &[
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPod", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
    ("FreeBSD", "FreeBSD"),
];

/// Scripts and tools, by the product token they start with (compared case-insensitively).
const TOOLS: &[(&str, &str)] = &[
    ("curl", "curl"),
    ("wget", "Wget"),
    ("httpie", "HTTPie"),
    ("postmanruntime", "Postman"),
    ("insomnia", "Insomnia"),
    ("python-requests", "Python requests"),
    ("python-httpx", "Python httpx"),
    ("python-urllib", "Python urllib"),
    ("aiohttp", "Python aiohttp"),
    ("go-http-client", "Go HTTP client"),
    ("okhttp", "OkHttp"),
    ("axios", "axios"),
    ("node-fetch", "Node.js"),
    ("node", "Node.js"),
    ("undici", "Node.js"),
    ("reqwest", "reqwest"),
    ("java", "Java"),
    ("ruby", "Ruby"),
    ("keyport", "Keyport"),
];

pub const UNKNOWN_DEVICE: &str = "Unknown device";

/// The device label of a user agent.
pub fn device_label(user_agent: &str) -> String {
    let ua = user_agent.trim();
    if ua.is_empty() {
        return UNKNOWN_DEVICE.to_string();
    }
    let product = ua
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or("");
    let lower = product.to_ascii_lowercase();
    if let Some((_, name)) = TOOLS.iter().find(|(token, _)| lower == *token) {
        return (*name).to_string();
    }
    let browser = BROWSERS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name);
    let system = SYSTEMS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("Browser on {s}"),
        // "MyScript/1.2": the product itself, when it looks like a name.
        (None, None) if is_plain_name(product) && product != "Mozilla" => product.to_string(),
        (None, None) => UNKNOWN_DEVICE.to_string(),
    }
}

fn is_plain_name(text: &str) -> bool {
    (2..=40).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_and_systems() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
                "Chrome on iPadOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera on Linux",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                "Headless Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Windows",
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(device_label(ua), want, "{ua}");
        }
    }

    #[test]
    fn tools_by_product_token() {
        assert_eq!(device_label("curl/8.11.0"), "curl");
        assert_eq!(device_label("Wget/1.21.4"), "Wget");
        assert_eq!(device_label("python-requests/2.32.3"), "Python requests");
        assert_eq!(device_label("PostmanRuntime/7.42.0"), "Postman");
        assert_eq!(device_label("Go-http-client/2.0"), "Go HTTP client");
        assert_eq!(device_label("HTTPie/3.2.4"), "HTTPie");
        // A tool name elsewhere in the string is no product token.
        assert_eq!(device_label("MyScript/1.0 (uses curl)"), "MyScript");
    }

    #[test]
    fn unknown_and_hostile() {
        assert_eq!(device_label(""), UNKNOWN_DEVICE);
        assert_eq!(device_label("   "), UNKNOWN_DEVICE);
        assert_eq!(device_label("Mozilla/5.0"), UNKNOWN_DEVICE);
        assert_eq!(device_label("<script>alert(1)</script>"), UNKNOWN_DEVICE);
        assert_eq!(device_label("💥/1.0"), UNKNOWN_DEVICE);
        assert_eq!(device_label(&"x".repeat(600)), UNKNOWN_DEVICE);
        assert_eq!(
            device_label("Mozilla/5.0 (X11; Linux x86_64) SomethingNew/1.0"),
            "Browser on Linux"
        );
    }
}
