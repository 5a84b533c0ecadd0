//! TLS connections to the local PostgreSQL (its certificate is self-signed).

use strata::driver::postgres::{Tls, connect};

fn url() -> Option<String> {
    let base = strata::testing::postgres_url("tls")?;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}sslmode=require"))
}

/// Whether the server offers TLS at all (some installations switch it off).
fn server_has_tls(url: &str) -> bool {
    let plain = url.replace("sslmode=require", "sslmode=disable");
    let Ok(mut client) = connect(&plain, Tls::Off) else {
        return false;
    };
    let on: String = client.query_one("SHOW ssl", &[]).unwrap().get(0);
    if on != "on" {
        eprintln!("SKIPPED tls tests: the PostgreSQL server has ssl = {on}");
    }
    on == "on"
}

#[test]
fn encrypted_connection_when_certificates_are_not_verified() {
    let Some(url) = url() else { return };
    if !server_has_tls(&url) {
        return;
    }
    let mut client = connect(&url, Tls::AcceptInvalidCertificates).unwrap();
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl, "the connection is encrypted");
}

#[test]
fn verification_rejects_a_self_signed_certificate() {
    let Some(url) = url() else { return };
    if !server_has_tls(&url) {
        return;
    }
    let Err(err) = connect(&url, Tls::Verify) else {
        panic!("a self-signed certificate passed verification");
    };
    let text = format!("{err} {:?}", err.source);
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}
