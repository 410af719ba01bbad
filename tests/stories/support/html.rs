//! Reading what the service answered as a browser sees it: where a redirect goes, what
//! a form carries. Shared by the stories and the fault suite.

use reqwest::Response;
use reqwest::header::LOCATION;

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// `name="…" value="…"` of a page.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let re = regex_lite::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).ok()?;
    re.captures(html).map(|c| c[1].to_string())
}
