//! Cancelling a running computation ([`retentionkit::interrupt`]). One test
//! in its own binary: the flag is process-wide, so raising it next to other
//! tests would stop them too.

use std::time::{Duration, Instant};

use retentionkit::bgbb::{bgbb_data, probability_alive_many, BetaGeoBetaBinom};
use retentionkit::{fit, interrupt, Error, FitOptions};

/// A fit and a batch prediction that run for minutes stop within a second of
/// the request: the fit with `Error::Interrupted`, the prediction early (its
/// result is discarded by whoever asked it to stop).
#[test]
fn a_request_stops_a_fit_and_a_prediction_within_a_second() {
    let m = 20_000;
    let tx: Vec<f64> = (0..m).map(|i| 1.0 + (i % 997) as f64).collect();
    let x: Vec<f64> = tx
        .iter()
        .enumerate()
        .map(|(i, &t)| t.min(1.0 + (i % 37) as f64))
        .collect();
    let n = vec![100_000.0; m];
    let data = bgbb_data(&x, &tx, &n, None).unwrap();

    let requester = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(500));
        interrupt::request();
    });
    let start = Instant::now();
    let result = fit::<BetaGeoBetaBinom>(&data, &FitOptions::default());
    let elapsed = start.elapsed();
    requester.join().unwrap();
    assert!(matches!(result, Err(Error::Interrupted)), "{result:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    interrupt::clear();

    // 200,000 distinct histories of 10⁵ opportunities: tens of seconds.
    let m = 200_000;
    let tx: Vec<f64> = (0..m).map(|i| 1.0 + (i % 99_991) as f64).collect();
    let x: Vec<f64> = tx
        .iter()
        .enumerate()
        .map(|(i, &t)| t.min(1.0 + (i % 3) as f64))
        .collect();
    let n = vec![100_000.0; m];
    let model = BetaGeoBetaBinom::new(1.2, 0.75, 0.66, 2.8).unwrap();
    let requester = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(500));
        interrupt::request();
    });
    let start = Instant::now();
    let _ = probability_alive_many(&model, &x, &tx, &n);
    let elapsed = start.elapsed();
    requester.join().unwrap();
    interrupt::clear();
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
}
