//! `keyport seed-demo [--keys N] [--events N] [--days N] [--developers N] [--seed N]`:
//! migrates the configured database and fills it with demo data (`domain::demo`).

use crate::config::{Config, load_or_create_secret};
use crate::db::Db;
use crate::domain::crypto::Keys;
use crate::domain::demo::{self, DemoPlan};

pub const USAGE: &str =
    "usage: keyport seed-demo [--keys N] [--events N] [--days N] [--developers N] [--seed N]
  Fills the database of KEYPORT_DATABASE_URL (default: SQLite in KEYPORT_DATA_DIR) with demo data:
  by default 1,000 developers, 100,000 keys and 10,000,000 usage events over the last 30 days.";

/// Reads the options after `seed-demo`.
pub fn parse(args: &[String]) -> Result<DemoPlan, String> {
    let mut plan = DemoPlan::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        const KNOWN: [&str; 5] = ["--keys", "--events", "--days", "--developers", "--seed"];
        if !KNOWN.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag}"));
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{flag}: '{value}' is not a whole number"))?;
        let within = |max: u64| {
            (1..=max)
                .contains(&number)
                .then_some(number)
                .ok_or_else(|| format!("{flag} must be between 1 and {max}"))
        };
        match flag.as_str() {
            "--keys" => plan.keys = within(1_000_000)?,
            "--events" => plan.events = within(100_000_000)?,
            "--days" => plan.days = within(400)? as u32,
            "--developers" => plan.developers = within(100_000)?,
            _ => plan.seed = number,
        }
    }
    Ok(plan)
}

/// Runs the seed; returns the process's exit status.
pub async fn run(config: Config, args: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let plan = match parse(args) {
        Ok(p) => DemoPlan {
            minute_days: config.minute_rollup_days,
            ..p
        },
        Err(e) => {
            eprintln!("keyport seed-demo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = async {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
        let secret = load_or_create_secret(&config).map_err(|e| e.to_string())?;
        let db = Db::connect(&config.database_url)
            .await
            .map_err(|e| e.to_string())?;
        db.migrate().await.map_err(|e| e.to_string())?;
        // Not the URL: a PostgreSQL URL may hold a password.
        println!(
            "seeding the {} database: {} developers, {} keys, {} events over {} days",
            db.backend(),
            plan.developers,
            plan.keys,
            plan.events,
            plan.days
        );
        let crypto = Keys::derive(secret.expose());
        let report = demo::seed(
            &db,
            &crypto,
            plan,
            time::OffsetDateTime::now_utc(),
            |line| println!("  {line}"),
        )
        .await
        .map_err(|e| e.detail)?;
        db.close().await;
        Ok::<_, String>(report)
    }
    .await;
    match result {
        Ok(r) => {
            let secs = r.total.as_secs_f64();
            println!(
                "done in {secs:.1} s: {} users and {} keys in {:.1} s; {} usage events with their rollups in {:.1} s ({:.0} events/s)",
                r.users,
                r.keys,
                r.users_and_keys.as_secs_f64(),
                r.events,
                r.traffic.as_secs_f64(),
                r.events as f64 / r.traffic.as_secs_f64().max(1e-9),
            );
            println!(
                "sign in as {} (developer) or {} (admin), password {}",
                demo::DEMO_DEVELOPER,
                demo::DEMO_ADMIN,
                demo::DEMO_PASSWORD
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keyport seed-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_override_the_defaults() {
        assert_eq!(parse(&[]).unwrap(), DemoPlan::default());
        let p = parse(&args(
            "--keys 2_000 --events 50000 --days 7 --developers 20 --seed 9",
        ))
        .unwrap();
        assert_eq!(
            p,
            DemoPlan {
                developers: 20,
                keys: 2_000,
                events: 50_000,
                days: 7,
                seed: 9,
                ..DemoPlan::default()
            }
        );
    }

    #[test]
    fn bad_options_are_named() {
        assert!(
            parse(&args("--keys"))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse(&args("--keys many"))
                .unwrap_err()
                .contains("not a whole number")
        );
        assert!(parse(&args("--keys 0")).unwrap_err().contains("between 1"));
        assert!(
            parse(&args("--days 401"))
                .unwrap_err()
                .contains("between 1 and 400")
        );
        assert!(
            parse(&args("--colour red"))
                .unwrap_err()
                .contains("unknown option")
        );
    }
}
