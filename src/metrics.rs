//! What `/metrics` shows an operator: request latency per route template, the database
//! pool and statement times, the outbox and how long sends take, logins and appeals.
//! Recorded through the `metrics` crate into a Prometheus recorder owned by the
//! application (not installed globally: several applications share a process in tests).

use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Upper bounds of the latency buckets, in seconds: a page takes milliseconds, a send to a
/// stalled SMTP server up to its timeout.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

pub const HTTP_REQUESTS: &str = "http_request_duration_seconds";
const DB_STATEMENTS: &str = "db_statement_duration_seconds";
const DB_FAILED: &str = "db_statements_failed_total";
const MAIL_SENDS: &str = "mail_send_duration_seconds";
const SUBMITTED: &str = "appeals_submitted_total";
const LOGINS: &str = "esia_logins_total";

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_histogram(name.into(), unit, SharedString::const_str(help));
        };
        describe(
            HTTP_REQUESTS,
            Some(Unit::Seconds),
            "Time to the response head, by method, route template and status class.",
        );
        describe(
            DB_STATEMENTS,
            Some(Unit::Seconds),
            "Statements sent to the database by this instance, and how long each took.",
        );
        describe(
            MAIL_SENDS,
            Some(Unit::Seconds),
            "SMTP sends by result (sent, failed; each retry counts), each to the server's last reply.",
        );
        for (name, help) in [
            (SUBMITTED, "Appeals registered by this instance."),
            (LOGINS, "ESIA callbacks by result (succeeded, failed)."),
            (
                DB_FAILED,
                "Statements the database refused or did not answer.",
            ),
        ] {
            recorder.describe_counter(name.into(), None, SharedString::const_str(help));
        }
        let handle = recorder.handle();
        let metrics = Self { recorder, handle };
        // Counters show from the start, at zero: an alert on their rate sees 0, not
        // missing data.
        metrics.counter(SUBMITTED, Vec::new()).increment(0);
        metrics.counter(DB_FAILED, Vec::new()).increment(0);
        for result in ["succeeded", "failed"] {
            metrics
                .counter(LOGINS, vec![Label::from_static_parts("result", result)])
                .increment(0);
        }
        metrics
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &META)
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &META)
    }

    /// A request answered: `route` is the matched template («/appeals/{number}»), never
    /// the path, which carries numbers and codes.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.request_histogram(method, route, status).record(took);
    }

    fn request_histogram(&self, method: &str, route: &str, status: u16) -> Histogram {
        self.histogram(
            HTTP_REQUESTS,
            vec![
                Label::from_static_parts("method", METHODS[method_index(method)]),
                Label::new("route", route.to_string()),
                Label::from_static_parts("status", CLASSES[class_index(status)]),
            ],
        )
    }

    /// The latency histograms of one route template, each made on its first request.
    pub fn route_latency(&self, route: &str) -> RouteLatency {
        RouteLatency {
            route: route.to_string(),
            handles: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// The handles a database connection's statement callback records into.
    pub fn statements(&self) -> (Histogram, Counter) {
        (
            self.histogram(DB_STATEMENTS, Vec::new()),
            self.counter(DB_FAILED, Vec::new()),
        )
    }

    pub fn mail_send(&self, sent: bool, took: Duration) {
        let result = if sent { "sent" } else { "failed" };
        self.histogram(MAIL_SENDS, vec![Label::from_static_parts("result", result)])
            .record(took);
    }

    pub fn appeal_submitted(&self) {
        self.counter(SUBMITTED, Vec::new()).increment(1);
    }

    pub fn login(&self, succeeded: bool) {
        let result = if succeeded { "succeeded" } else { "failed" };
        self.counter(LOGINS, vec![Label::from_static_parts("result", result)])
            .increment(1);
    }

    /// A value read when `/metrics` is asked for (pool, outbox).
    pub fn gauge(&self, name: &'static str, help: &'static str, value: f64) {
        self.recorder
            .describe_gauge(name.into(), None, SharedString::const_str(help));
        self.recorder
            .register_gauge(&Key::from_static_name(name), &META)
            .set(value);
    }

    /// The Prometheus text exposition of everything recorded.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds the samples recorded since the last call into the histograms; without it
    /// they pile up between scrapes (the application calls it every few seconds).
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// Method labels. A method of a client's own making counts as «other»: labels a client
/// could choose would grow the registry without end.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

fn class_index(status: u16) -> usize {
    usize::from(status.clamp(100, 599) / 100 - 1)
}

/// One route's request histograms by method and status class. The web layer keeps one
/// per route, so that a request records into a handle it already holds instead of
/// building a key and looking it up in the registry.
pub struct RouteLatency {
    route: String,
    handles: [OnceLock<Histogram>; METHODS.len() * CLASSES.len()],
}

impl RouteLatency {
    pub fn route(&self) -> &str {
        &self.route
    }

    pub fn record(&self, metrics: &Metrics, method: &str, status: u16, took: Duration) {
        self.handles[method_index(method) * CLASSES.len() + class_index(status)]
            .get_or_init(|| metrics.request_histogram(method, &self.route, status))
            .record(took);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_and_status_class() {
        let m = Metrics::new();
        m.request("GET", "/appeals/{number}", 200, Duration::from_millis(3));
        m.request("GET", "/appeals/{number}", 404, Duration::from_millis(1));
        m.request("BREW", "unmatched", 405, Duration::from_millis(1));
        let kept = m.route_latency("/s/{token}");
        for status in [200, 200, 503] {
            kept.record(&m, "GET", status, Duration::from_millis(2));
        }
        m.appeal_submitted();
        let text = m.render();
        assert!(
            text.contains(
                "http_request_duration_seconds_count{method=\"GET\",route=\"/appeals/{number}\",status=\"2xx\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/appeals/{number}\",status=\"4xx\",le=\"0.001\"}"),
            "{text}"
        );
        assert!(
            text.contains(
                "http_request_duration_seconds_count{method=\"GET\",route=\"/s/{token}\",status=\"2xx\"} 2"
            ),
            "a route's kept handles count into the same series: {text}"
        );
        assert!(
            text.contains("route=\"/s/{token}\",status=\"5xx\"} 1"),
            "{text}"
        );
        assert!(text.contains("appeals_submitted_total 1"), "{text}");
        assert!(
            text.contains("esia_logins_total{result=\"failed\"} 0"),
            "counters show at zero before their first event: {text}"
        );
        assert!(
            text.contains("method=\"other\",route=\"unmatched\""),
            "{text}"
        );
        assert!(!text.contains("BREW"), "{text}");
    }
}
