//! Wenji's schema, one change per file; every change has a `down`. Runs at `wenji serve` and `wenji migrate`.

pub use sea_orm_migration::prelude::*;

pub use m20261202_000031_constraints_no_intake::FINGERPRINT_LATER;

mod m20261126_000001_catalogue;
mod m20261126_000002_responses;
mod m20261126_000003_accounts;
mod m20261126_000004_tagging;
mod m20261126_000005_export_jobs;
mod m20261126_000010_inbox_search;
mod m20261126_000011_search_backlog;
mod m20261126_000012_opinion_counts;
mod m20261126_000013_inbox_state_indexes;
mod m20261126_000020_export_representative;
mod m20261126_000021_opinion_intake;
mod m20261126_000022_intake_without_text;
mod m20261126_000023_responses_unindexed_keys;
mod m20261202_000030_setup_tokens;
mod m20261202_000031_constraints_no_intake;
mod m20261203_000045_double_coding;
mod m20261203_000050_clusters;
mod m20261203_000055_problems;
mod m20261203_000056_register;
mod m20261203_000058_pg_commit_path;
mod m20261203_000060_no_fingerprint_index;
mod m20261204_000062_export_heartbeat;
mod m20261204_000063_responses_without_link;
mod m20261204_000064_cluster_fingerprints;
mod m20261205_000065_secret_fingerprint;
mod m20261205_000066_leader_releases;
mod m20261205_000067_release_k;
mod m20261206_000068_user_names_any_case;
mod m20261206_000069_access_codes;
mod m20261206_000070_audit_by_target;
mod m20261206_000071_responses_with_code;
mod m20261206_000072_staff_count_slots;
mod m20261206_000073_release_rules;
mod m20261206_000074_staff_once;
mod m20261207_000075_release_rules_withheld;
mod m20261208_000076_measure_changes;
mod m20261208_000077_measure_first_published;

/// All migrations in order.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_catalogue::Migration),
            Box::new(m20261126_000002_responses::Migration),
            Box::new(m20261126_000003_accounts::Migration),
            Box::new(m20261126_000004_tagging::Migration),
            Box::new(m20261126_000005_export_jobs::Migration),
            Box::new(m20261126_000010_inbox_search::Migration),
            Box::new(m20261126_000011_search_backlog::Migration),
            Box::new(m20261126_000012_opinion_counts::Migration),
            Box::new(m20261126_000013_inbox_state_indexes::Migration),
            Box::new(m20261126_000020_export_representative::Migration),
            Box::new(m20261126_000021_opinion_intake::Migration),
            Box::new(m20261126_000022_intake_without_text::Migration),
            Box::new(m20261126_000023_responses_unindexed_keys::Migration),
            Box::new(m20261202_000030_setup_tokens::Migration),
            Box::new(m20261202_000031_constraints_no_intake::Migration),
            Box::new(m20261203_000045_double_coding::Migration),
            Box::new(m20261203_000055_problems::Migration),
            Box::new(m20261203_000056_register::Migration),
            Box::new(m20261203_000050_clusters::Migration),
            Box::new(m20261203_000058_pg_commit_path::Migration),
            Box::new(m20261203_000060_no_fingerprint_index::Migration),
            Box::new(m20261204_000062_export_heartbeat::Migration),
            Box::new(m20261204_000063_responses_without_link::Migration),
            Box::new(m20261204_000064_cluster_fingerprints::Migration),
            Box::new(m20261205_000065_secret_fingerprint::Migration),
            Box::new(m20261205_000066_leader_releases::Migration),
            Box::new(m20261205_000067_release_k::Migration),
            Box::new(m20261206_000068_user_names_any_case::Migration),
            Box::new(m20261206_000069_access_codes::Migration),
            Box::new(m20261206_000070_audit_by_target::Migration),
            Box::new(m20261206_000071_responses_with_code::Migration),
            Box::new(m20261206_000072_staff_count_slots::Migration),
            Box::new(m20261206_000073_release_rules::Migration),
            Box::new(m20261206_000074_staff_once::Migration),
            Box::new(m20261207_000075_release_rules_withheld::Migration),
            Box::new(m20261208_000076_measure_changes::Migration),
            Box::new(m20261208_000077_measure_first_published::Migration),
        ]
    }
}

/// Creates a (non-unique unless `unique`) index named `idx_{table}_{cols}`.
pub(crate) async fn index<T: Iden + Copy + 'static, C: Iden + Copy + 'static>(
    m: &SchemaManager<'_>,
    table: T,
    cols: &[C],
    unique: bool,
) -> Result<(), DbErr> {
    let name =
        format!("idx_{}_{}", table.to_string(), cols.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("_"));
    let mut stmt = Index::create();
    stmt.name(&name).table(table).if_not_exists();
    for c in cols {
        stmt.col(*c);
    }
    if unique {
        stmt.unique();
    }
    m.create_index(stmt).await
}
