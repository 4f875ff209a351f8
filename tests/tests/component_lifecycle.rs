//! Go's generated component test, once for every factory of the default
//! distribution: its metadata matches how it is registered and its aliases
//! resolve, its default config (or the `tests::config` of its
//! `metadata.yaml`, as Go's) validates, and it is created, started and shut
//! down cleanly (`ferrotel_core::testing::check_lifecycles`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_factory_of_the_default_distribution_starts_and_stops() {
    let factories = ferrotel::factories();
    let count: usize = [
        factories.receivers.len(),
        factories.processors.len(),
        factories.exporters.len(),
        factories.connectors.len(),
        factories.extensions.len(),
    ]
    .iter()
    .sum();
    println!("{count} factories checked");
    assert!(count >= 21, "the default distribution has every component");
    let failures = ferrotel_core::testing::check_lifecycles(&factories).await;
    assert!(failures.is_empty(), "{failures:#?}");
}
