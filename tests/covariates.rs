//! Time-invariant covariates: the identity with the plain model, the
//! derivatives, and CLVTools 0.12.1's estimates on CDNOW
//! (`../shared/reference/covariates_cdnow.md`).

mod common;

use common::recovery::{assert_recovers, cohort_ages};

use std::collections::BTreeMap;

use retentionkit::models::covariates::CovariateModel;
use retentionkit::models::covariates::{CovariateData, CovariateDesign, WithCovariates};
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{fit, CustomerData, Derivatives, FitOptions, Model, TransactionModel};
use retentionkit::{BetaGeo, ModifiedBetaGeo};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days-from-civil algorithm).
fn days(ymd: u32) -> i64 {
    let (y, m, d) = (
        (ymd / 10000) as i64,
        ((ymd / 100) % 100) as i64,
        (ymd % 100) as i64,
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The CDNOW sample summarised as the reference does: customers by sample id,
/// weeks, calibration to 1997-09-30 inclusive, same-day purchases one
/// transaction; `log_first_spend` = ln(1 + dollars on the first purchase day).
struct Cdnow {
    frequency: Vec<f64>,
    recency: Vec<f64>,
    age: Vec<f64>,
    log_first_spend: Vec<f64>,
}

fn cdnow() -> Cdnow {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/python/retentionkit/datasets/data/CDNOW_sample.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    // customer -> day -> dollars
    let mut log: BTreeMap<u32, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (customer, day, dollars): (u32, i64, f64) = (
            f[1].parse().unwrap(),
            days(f[2].parse().unwrap()),
            f[4].parse().unwrap(),
        );
        *log.entry(customer).or_default().entry(day).or_default() += dollars;
    }
    let end = days(19970930);
    let mut out = Cdnow {
        frequency: vec![],
        recency: vec![],
        age: vec![],
        log_first_spend: vec![],
    };
    for by_day in log.values() {
        let (&first, &first_spend) = by_day.iter().next().unwrap();
        let calibration: Vec<i64> = by_day.keys().copied().filter(|&d| d <= end).collect();
        out.frequency.push((calibration.len() - 1) as f64);
        out.recency
            .push((calibration.last().unwrap() - first) as f64 / 7.0);
        out.age.push((end - first) as f64 / 7.0);
        out.log_first_spend.push(first_spend.ln_1p());
    }
    out
}

fn pnbd_design(shared: bool) -> CovariateDesign {
    let columns = ["log_first_spend".to_string(), "noise".to_string()];
    if shared {
        CovariateDesign::new::<ParetoNBD>(&columns, &[vec![1], vec![]], &[0]).unwrap()
    } else {
        CovariateDesign::new::<ParetoNBD>(&columns, &[vec![0, 1], vec![0]], &[]).unwrap()
    }
}

fn cdnow_with(design: CovariateDesign) -> CovariateData {
    let c = cdnow();
    let noise: Vec<f64> = (0..c.frequency.len())
        .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
        .collect();
    let k = design.columns().len();
    let z: Vec<f64> = (0..c.frequency.len())
        .flat_map(|i| [c.log_first_spend[i], noise[i]].into_iter().take(k))
        .collect();
    CovariateData::new(&c.frequency, &c.recency, &c.age, None, &z, design).unwrap()
}

#[test]
fn the_covariate_is_built_as_the_reference_describes() {
    let c = cdnow();
    assert_eq!(c.frequency.len(), 2357);
    common::assert_close(c.log_first_spend[0], 3.41213732170049, 1e-13, "customer 1");
    common::assert_close(c.log_first_spend[1], 4.16418152181088, 1e-13, "customer 2");
}

#[test]
fn zero_coefficients_are_the_plain_model() {
    let data = cdnow_with(pnbd_design(false));
    let base = [0.553, 10.578, 0.606, 11.669];
    let plain = ParetoNBD::from_slice(&base).unwrap();
    let with = WithCovariates::new(plain, data.design().clone(), vec![0.0; 3]).unwrap();
    let c = cdnow();
    let compressed = CustomerData::new(&c.frequency, &c.recency, &c.age, None)
        .unwrap()
        .compress();
    let ours = with.evaluate(&data, Derivatives::Hessian);
    let theirs = plain.evaluate(&compressed, Derivatives::Hessian);
    // The same terms summed in another order (and the shared ln Γ, ln α,
    // ln β parts per customer instead of per distinct x): equal to the
    // rounding of sums of 2,357 terms of magnitude up to about 10.
    let n = c.frequency.len() as f64;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-14 * n * b.abs().max(10.0),
            "{what}: {a} vs {b}"
        );
    };
    close(ours.value, theirs.value, "log-likelihood");
    for k in 0..4 {
        close(ours.gradient[k], theirs.gradient[k], "gradient");
        for l in 0..4 {
            close(
                ours.hessian[k * 7 + l],
                theirs.hessian[k * 4 + l],
                "hessian",
            );
        }
    }
}

#[test]
fn analytic_derivatives_match_differences() {
    for shared in [false, true] {
        let data = cdnow_with(pnbd_design(shared));
        let p = if shared {
            vec![0.6, 30.0, 0.7, 9.0, 0.2, 0.3]
        } else {
            vec![0.6, 30.0, 0.7, 9.0, 0.3, -0.4, 0.1]
        };
        common::assert_derivatives::<WithCovariates<ParetoNBD>>(&p, &data);
    }
}

#[test]
fn pareto_nbd_matches_clvtools_on_cdnow() {
    let c = cdnow();
    let design = CovariateDesign::new::<ParetoNBD>(
        &["log_first_spend".to_string()],
        &[vec![0], vec![0]],
        &[],
    )
    .unwrap();
    let data = CovariateData::new(
        &c.frequency,
        &c.recency,
        &c.age,
        None,
        &c.log_first_spend,
        design,
    )
    .unwrap();
    // Without covariates first: the summary must be the reference's.
    let plain = fit::<ParetoNBD>(data.without_covariates(), &FitOptions::default()).unwrap();
    // CLVTools prints -9594.976181; our optimum is 2e-6 higher.
    common::assert_close(plain.log_likelihood(), -9594.976181, 1e-5, "plain LL");
    let fitted = fit::<WithCovariates<ParetoNBD>>(&data, &FitOptions::default()).unwrap();
    // Our optimum is 7e-5 higher than CLVTools' (which stops earlier).
    let ll = fitted.log_likelihood();
    assert!(
        (-9571.98206262848..=-9571.98206262848 + 1e-3).contains(&ll),
        "LL {ll}"
    );
    let names = fitted.model.param_names();
    assert_eq!(
        names,
        [
            "r",
            "alpha",
            "s",
            "beta",
            "purchase:log_first_spend",
            "dropout:log_first_spend"
        ]
    );
    let expected = [
        (0.572935325339591, 0.0496898632488943),
        (36.8716471200374, 7.89853634017095),
        (0.612989709595729, 0.19536354565176),
        (12.3445499661293, 10.1773820416689),
        (0.364454361636481, 0.0613730458781769),
        (0.00869821437825145, 0.14974874122163),
    ];
    // The same likelihood: at CLVTools' estimates ours is CLVTools' value.
    let at_theirs: Vec<f64> = expected.iter().map(|e| e.0).collect();
    let theirs = fitted.model.with_params(&at_theirs).unwrap();
    let ll_theirs = theirs.evaluate(&data, Derivatives::None).value;
    common::assert_close(
        ll_theirs,
        -9571.98206262848,
        1e-8,
        "LL at CLVTools' estimates",
    );
    // The likelihood is flat near the optimum (CLVTools stops 7e-5 below it):
    // the estimates agree to a small fraction of their standard errors, and
    // the standard errors (CLVTools differentiates numerically) to 1%.
    let summary = fitted.summary();
    for (k, &(estimate, se)) in expected.iter().enumerate() {
        let row = &summary[k];
        assert!(
            (row.coef - estimate).abs() <= 0.05 * se,
            "{}: {} vs CLVTools {estimate} (se {se})",
            names[k],
            row.coef
        );
        assert!(
            (row.se - se).abs() <= 1e-2 * se,
            "{}: se {} vs CLVTools {se}",
            names[k],
            row.se
        );
    }
}

/// A design with `log_first_spend` and a noise column in every process.
fn full_design<M: CovariateModel>() -> CovariateDesign {
    let columns = ["log_first_spend".to_string(), "noise".to_string()];
    let by_process = vec![vec![0, 1]; M::PROCESSES.len()];
    CovariateDesign::new::<M>(&columns, &by_process, &[]).unwrap()
}

fn bg_identity_and_derivatives<M: CovariateModel<Data = retentionkit::CompressedData>>(base: M) {
    let design = full_design::<M>();
    let k = design.coefficient_names().len();
    let data = cdnow_with(design.clone());
    let with = WithCovariates::new(base.clone(), design, vec![0.0; k]).unwrap();
    let ours = with.evaluate(&data, Derivatives::Hessian);
    let theirs = base.evaluate(data.without_covariates(), Derivatives::Hessian);
    let n = data.len() as f64;
    let p = 4 + k;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-14 * n * b.abs().max(10.0),
            "{}: {what}: {a} vs {b}",
            M::NAME
        );
    };
    close(ours.value, theirs.value, "log-likelihood");
    for i in 0..4 {
        close(ours.gradient[i], theirs.gradient[i], "gradient");
        for j in 0..4 {
            close(
                ours.hessian[i * p + j],
                theirs.hessian[i * 4 + j],
                "hessian",
            );
        }
    }
    let mut params = vec![0.3, 5.0, 0.8, 2.5];
    params.extend((0..k).map(|i| 0.15 * (i as f64) - 0.3));
    common::assert_derivatives::<WithCovariates<M>>(&params, &data);
}

/// The BG family's own per-customer terms (each customer's parameters only
/// where the history needs them, ln α and ln a from the exponents) sum to
/// the log-likelihood of each customer's own model, computed one by one; a
/// customer whose a or b overflows makes the log-likelihood −∞ whether or not
/// their history reads a and b, as for any other model with covariates.
fn bg_terms_are_each_customers_own<M: CovariateModel<Data = retentionkit::CompressedData>>(
    base: M,
) {
    let design = full_design::<M>();
    let data = cdnow_with(design.clone());
    let c = cdnow();
    let noise = |i: usize| ((i * 7919) % 101) as f64 / 50.0 - 1.0;
    let coefficients = vec![0.3, -0.2, 0.25, 0.4, -0.35, 0.15];
    let with = WithCovariates::new(base.clone(), design.clone(), coefficients).unwrap();
    let ours = with.evaluate(&data, Derivatives::None).value;
    let mut one_by_one = 0.0;
    for i in 0..c.frequency.len() {
        let customer = with
            .for_customer(&[c.log_first_spend[i], noise(i)])
            .unwrap();
        let h = [c.frequency[i], c.recency[i], c.age[i]];
        one_by_one += customer.customer_term(&h, 0).value;
    }
    assert!(
        (ours - one_by_one).abs() <= 1e-12 * one_by_one.abs(),
        "{}: {ours} vs {one_by_one}",
        M::NAME
    );
    // A drop-out coefficient that overflows a (or b) of one customer only,
    // who never bought again (so the BG/NBD's term does not read a and b).
    let columns = ["z".to_string()];
    let design = CovariateDesign::new::<M>(&columns, &[vec![0], vec![0], vec![0]], &[]).unwrap();
    let (x, tx, t, z) = (
        [0.0, 2.0, 1.0],
        [0.0, 5.0, 3.0],
        [30.0, 30.0, 20.0],
        [8.0, 0.0, 0.5],
    );
    let data = CovariateData::new(&x, &tx, &t, None, &z, design.clone()).unwrap();
    for (coefficients, finite) in [
        ([0.0, 100.0, 0.0], false),
        ([0.0, 0.0, 100.0], false),
        ([0.0, 80.0, 0.0], true),
        ([0.0, 0.0, 80.0], true),
    ] {
        let with =
            WithCovariates::new(base.clone(), design.clone(), coefficients.to_vec()).unwrap();
        for derivatives in [Derivatives::None, Derivatives::Hessian] {
            let value = with.evaluate(&data, derivatives).value;
            assert_eq!(
                value.is_finite(),
                finite,
                "{}: coefficients {coefficients:?}: {value}",
                M::NAME
            );
        }
    }
}

#[test]
fn bg_family_terms_are_each_customers_own() {
    bg_terms_are_each_customers_own(BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap());
    bg_terms_are_each_customers_own(ModifiedBetaGeo::new(0.525, 6.183, 0.891, 1.614).unwrap());
}

#[test]
fn bg_family_zero_coefficients_and_derivatives() {
    bg_identity_and_derivatives(BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap());
    bg_identity_and_derivatives(ModifiedBetaGeo::new(0.525, 6.183, 0.891, 1.614).unwrap());
}

#[test]
fn bg_nbd_fits_cdnow_with_first_spend() {
    // CLVTools' BG/NBD ties a and b to one coefficient and fails on this data;
    // with separate coefficients the fit must succeed, near the Pareto/NBD's
    // log-likelihood with the same covariate (-9571.98).
    let c = cdnow();
    let columns = ["log_first_spend".to_string()];
    for modified in [false, true] {
        let by_process = vec![vec![0]; 3];
        let (ll, names) = if modified {
            let design =
                CovariateDesign::new::<ModifiedBetaGeo>(&columns, &by_process, &[]).unwrap();
            let data = CovariateData::new(
                &c.frequency,
                &c.recency,
                &c.age,
                None,
                &c.log_first_spend,
                design,
            )
            .unwrap();
            let f = fit::<WithCovariates<ModifiedBetaGeo>>(&data, &FitOptions::default()).unwrap();
            let plain =
                fit::<ModifiedBetaGeo>(data.without_covariates(), &FitOptions::default()).unwrap();
            assert!(f.log_likelihood() > plain.log_likelihood() + 10.0);
            (f.log_likelihood(), f.model.param_names())
        } else {
            let design = CovariateDesign::new::<BetaGeo>(&columns, &by_process, &[]).unwrap();
            let data = CovariateData::new(
                &c.frequency,
                &c.recency,
                &c.age,
                None,
                &c.log_first_spend,
                design,
            )
            .unwrap();
            let f = fit::<WithCovariates<BetaGeo>>(&data, &FitOptions::default()).unwrap();
            let plain = fit::<BetaGeo>(data.without_covariates(), &FitOptions::default()).unwrap();
            assert!(f.log_likelihood() > plain.log_likelihood() + 10.0);
            (f.log_likelihood(), f.model.param_names())
        };
        assert_eq!(
            names,
            [
                "r",
                "alpha",
                "a",
                "b",
                "purchase:log_first_spend",
                "dropout_a:log_first_spend",
                "dropout_b:log_first_spend"
            ]
        );
        println!("modified={modified}: LL {ll}");
        assert!(ll > -9571.98 - 5.0, "LL {ll}");
    }
}

#[test]
fn pareto_nbd_predictions_match_clvtools() {
    // P(alive) and expected purchases 39 weeks ahead at CLVTools' estimates,
    // customers 1, 10, 100 and 1000 (the reference's table).
    let c = cdnow();
    let design = CovariateDesign::new::<ParetoNBD>(
        &["log_first_spend".to_string()],
        &[vec![0], vec![0]],
        &[],
    )
    .unwrap();
    let base = ParetoNBD::new(
        0.572935325339591,
        36.8716471200374,
        0.612989709595729,
        12.3445499661293,
    )
    .unwrap();
    let model =
        WithCovariates::new(base, design, vec![0.364454361636481, 0.00869821437825145]).unwrap();
    let expected = [
        (1usize, 0.868430237539447, 1.46204844593519),
        (10, 0.292027406097153, 0.109751398386115),
        (100, 0.766381557176691, 0.762031036658857),
        (1000, 0.801784309987469, 2.38412266871474),
    ];
    let rows: Vec<usize> = expected.iter().map(|e| e.0 - 1).collect();
    let z: Vec<f64> = rows.iter().map(|&i| c.log_first_spend[i]).collect();
    let out = model
        .per_customer(rows.len(), &z, |m, j| {
            let i = rows[j];
            (
                m.probability_alive(c.frequency[i], c.recency[i], c.age[i]),
                m.conditional_expected_purchases(39.0, c.frequency[i], c.recency[i], c.age[i]),
            )
        })
        .unwrap();
    for ((id, alive, purchases), (ours_alive, ours_purchases)) in expected.iter().zip(out) {
        assert!(
            (ours_alive - alive).abs() <= 1e-8 * alive,
            "customer {id}: P(alive) {ours_alive} vs {alive}"
        );
        assert!(
            (ours_purchases - purchases).abs() <= 1e-8 * purchases,
            "customer {id}: expected purchases {ours_purchases} vs {purchases}"
        );
    }
    // A covariate row of the wrong length is an error, not a panic.
    assert!(model.per_customer(2, &[1.0], |_, _| ()).is_err());
}

/// `n` customers of `truth` with one binary and one standard normal covariate
/// (columns `binary`, `normal`), simulated customer by customer.
fn simulate_with_covariates<M>(truth: &WithCovariates<M>, n: usize, seed: u64) -> CovariateData
where
    M: CovariateModel + TransactionModel,
{
    let ages = cohort_ages(n);
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let z: Vec<f64> = (0..n)
        .flat_map(|i| {
            let (u1, u2) = (uniform(), uniform());
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            [(i % 2) as f64, normal]
        })
        .collect();
    let sims = truth
        .per_customer(n, &z, |m, i| {
            retentionkit::predict::simulate(m, &[ages[i]], seed + i as u64).unwrap()[0]
        })
        .unwrap();
    let x: Vec<f64> = sims.iter().map(|c| c.frequency).collect();
    let tx: Vec<f64> = sims.iter().map(|c| c.recency).collect();
    let t: Vec<f64> = sims.iter().map(|c| c.age).collect();
    CovariateData::new(&x, &tx, &t, None, &z, truth.design().clone()).unwrap()
}

fn two_covariates<M: CovariateModel>() -> CovariateDesign {
    let columns = ["binary".to_string(), "normal".to_string()];
    CovariateDesign::new::<M>(&columns, &vec![vec![0, 1]; M::PROCESSES.len()], &[]).unwrap()
}

#[test]
fn simulated_coefficients_are_recovered() {
    let n = 100_000;
    let pnbd = WithCovariates::new(
        ParetoNBD::new(0.6, 10.0, 0.8, 12.0).unwrap(),
        two_covariates::<ParetoNBD>(),
        vec![0.5, -0.3, 0.4, 0.2],
    )
    .unwrap();
    assert_recovers(&pnbd, &simulate_with_covariates(&pnbd, n, 11));
    let bgnbd = WithCovariates::new(
        BetaGeo::new(0.25, 4.0, 0.8, 2.5).unwrap(),
        two_covariates::<BetaGeo>(),
        vec![0.5, -0.3, 0.4, 0.2, -0.3, 0.1],
    )
    .unwrap();
    assert_recovers(&bgnbd, &simulate_with_covariates(&bgnbd, n, 12));
    let mbgnbd = WithCovariates::new(
        ModifiedBetaGeo::new(0.25, 4.0, 0.8, 2.5).unwrap(),
        two_covariates::<ModifiedBetaGeo>(),
        vec![0.5, -0.3, 0.4, 0.2, -0.3, 0.1],
    )
    .unwrap();
    assert_recovers(&mbgnbd, &simulate_with_covariates(&mbgnbd, n, 13));
}

#[test]
fn a_saved_covariate_model_loads_with_its_coefficients() {
    let columns = ["log_first_spend".to_string(), "noise".to_string()];
    // Columns given in another order than their names': the coefficients
    // follow the names, so a saved file gives back the same order.
    let design =
        CovariateDesign::new::<BetaGeo>(&columns, &[vec![1, 0], vec![0], vec![]], &[]).unwrap();
    assert_eq!(
        design.coefficient_names(),
        [
            "purchase:log_first_spend",
            "purchase:noise",
            "dropout_a:log_first_spend"
        ]
    );
    let data = cdnow_with(design);
    let fitted = fit::<WithCovariates<BetaGeo>>(&data, &FitOptions::default()).unwrap();
    let json = fitted.to_json();
    assert!(json.contains("\"BetaGeoCovariates\""));
    let loaded = retentionkit::Fitted::<WithCovariates<BetaGeo>>::from_json(&json).unwrap();
    assert_eq!(loaded.model.to_vec(), fitted.model.to_vec());
    assert_eq!(loaded.model.param_names(), fitted.model.param_names());
    assert_eq!(loaded.standard_errors(), fitted.standard_errors());
    // Never as the plain model.
    assert!(retentionkit::Fitted::<BetaGeo>::from_json(&json).is_err());
}

#[test]
fn the_penalty_shrinks_only_the_coefficients() {
    let c = cdnow();
    let fit_with = |lambda: f64| {
        let design = CovariateDesign::new::<ParetoNBD>(
            &["log_first_spend".to_string()],
            &[vec![0], vec![0]],
            &[],
        )
        .unwrap()
        .with_penalties(vec![lambda; 2])
        .unwrap();
        let data = CovariateData::new(
            &c.frequency,
            &c.recency,
            &c.age,
            None,
            &c.log_first_spend,
            design,
        )
        .unwrap();
        let options = FitOptions {
            penalizer_coef: 1.0,
            ..FitOptions::default()
        };
        fit::<WithCovariates<ParetoNBD>>(&data, &options).unwrap()
    };
    let plain = {
        let design = CovariateDesign::new::<ParetoNBD>(
            &["log_first_spend".to_string()],
            &[vec![0], vec![0]],
            &[],
        )
        .unwrap();
        let data = CovariateData::new(
            &c.frequency,
            &c.recency,
            &c.age,
            None,
            &c.log_first_spend,
            design,
        )
        .unwrap();
        fit::<WithCovariates<ParetoNBD>>(&data, &FitOptions::default()).unwrap()
    };
    // λ = 0 (with penalizer_coef 1) is the unpenalised fit.
    let zero = fit_with(0.0);
    for (a, b) in zero.model.to_vec().iter().zip(plain.model.to_vec()) {
        assert!((a - b).abs() <= 1e-8 * b.abs().max(1.0), "{a} vs {b}");
    }
    // A large λ pulls the purchase coefficient (0.36 unpenalised) to 0 and
    // leaves a lower likelihood; the base parameters stay unpenalised.
    let strong = fit_with(10.0);
    let purchase = strong.model.coefficients()[0];
    assert!(purchase.abs() < 0.05, "purchase coefficient {purchase}");
    assert!(strong.log_likelihood() < plain.log_likelihood() - 5.0);
    assert!(strong.model.base().r() > 0.5);
}

/// Customers with the same history and the same covariates share one weighted
/// row (a categorical covariate keeps the fit at the cost of distinct rows),
/// customers with T = 0 carry no information, and the log-likelihood is still
/// the sum over every customer of their own term.
#[test]
fn identical_customers_compress_into_weighted_rows() {
    let c = cdnow();
    // A binary covariate: first spend above e^3.5 - 1 dollars.
    let big: Vec<f64> = c
        .log_first_spend
        .iter()
        .map(|&v| f64::from(u8::from(v > 3.5)))
        .collect();
    let mut x = c.frequency.clone();
    let mut tx = c.recency.clone();
    let mut t = c.age.clone();
    let mut z = big.clone();
    // Two new customers (T = 0), who must change nothing.
    for v in [0.0, 1.0] {
        x.push(0.0);
        tx.push(0.0);
        t.push(0.0);
        z.push(v);
    }
    let design = || {
        CovariateDesign::new::<BetaGeo>(&["big".to_string()], &[vec![0], vec![0], vec![]], &[])
            .unwrap()
    };
    let data = CovariateData::new(&x, &tx, &t, None, &z, design()).unwrap();
    let distinct: std::collections::BTreeSet<[u64; 4]> = (0..c.frequency.len())
        .map(|i| {
            [
                c.frequency[i].to_bits(),
                c.recency[i].to_bits(),
                c.age[i].to_bits(),
                big[i].to_bits(),
            ]
        })
        .collect();
    assert_eq!(data.len(), distinct.len());
    assert!(data.len() < c.frequency.len() / 2, "{} rows", data.len());

    let model = WithCovariates::new(
        BetaGeo::new(0.24, 4.4, 0.79, 2.4).unwrap(),
        design(),
        vec![0.3, -0.2],
    )
    .unwrap();
    let compressed = model.evaluate(&data, Derivatives::None).value;
    let by_customer: f64 = (0..x.len())
        .map(|i| {
            let customer = model.for_customer(&z[i..=i]).unwrap();
            customer.customer_term(&[x[i], tx[i], t[i]], 0).value
        })
        .sum();
    assert!(
        (compressed - by_customer).abs() <= 1e-9 * by_customer.abs(),
        "{compressed} vs {by_customer}"
    );
    let fitted = fit::<WithCovariates<BetaGeo>>(&data, &FitOptions::default()).unwrap();
    assert_eq!(fitted.info.unwrap().n_unique, data.len());
}

/// DERT, CLV and simulation per customer with covariates: with coefficients 0
/// they are the plain model's; otherwise each customer's value is the plain
/// function of that customer's parameters; a bad row is named as the caller
/// counts it.
#[test]
fn dert_clv_and_simulation_follow_each_customers_parameters() {
    use retentionkit::clv::{customer_lifetime_value, ClvOptions};
    use retentionkit::dert::discounted_expected_residual_transactions;
    let c = cdnow();
    let n = 200;
    let (x, tx, t) = (&c.frequency[..n], &c.recency[..n], &c.age[..n]);
    let z = &c.log_first_spend[..n];
    let m: Vec<f64> = (0..n).map(|i| 10.0 + i as f64).collect();
    let rate = vec![0.003; n];
    let options = ClvOptions {
        time: 24.0,
        unit: retentionkit::clv::TimeUnit::Week,
        ..ClvOptions::default()
    };
    let base = ParetoNBD::new(0.55, 10.6, 0.61, 11.7).unwrap();
    let design = || {
        CovariateDesign::new::<ParetoNBD>(&["first".to_string()], &[vec![0], vec![0]], &[]).unwrap()
    };
    let zero = WithCovariates::new(base, design(), vec![0.0; 2]).unwrap();
    let close = |a: &[f64], b: &[f64]| {
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() <= 1e-12 * v.abs().max(1e-300), "{u} vs {v}");
        }
    };
    close(
        &zero
            .discounted_expected_residual_transactions(&rate, x, tx, t, z)
            .unwrap(),
        &discounted_expected_residual_transactions(&base, &rate, x, tx, t).unwrap(),
    );
    close(
        &zero
            .customer_lifetime_value(x, tx, t, &m, z, &options)
            .unwrap(),
        &customer_lifetime_value(&base, x, tx, t, &m, &options).unwrap(),
    );
    let with = WithCovariates::new(base, design(), vec![0.4, 0.2]).unwrap();
    let ours = with
        .customer_lifetime_value(x, tx, t, &m, z, &options)
        .unwrap();
    for i in [0, 17, 199] {
        let own = with.for_customer(&z[i..=i]).unwrap();
        let theirs =
            customer_lifetime_value(&own, &x[i..=i], &tx[i..=i], &t[i..=i], &m[i..=i], &options)
                .unwrap();
        assert_eq!(ours[i], theirs[0]);
    }
    // Simulated customers with a large purchase coefficient buy more.
    let ages = vec![52.0; 4000];
    let traits: Vec<f64> = (0..4000).map(|i| (i % 2) as f64 * 3.0).collect();
    let sims = with.simulate(&ages, &traits, 3).unwrap();
    assert_eq!(sims, with.simulate(&ages, &traits, 3).unwrap());
    let mean = |parity: usize| {
        sims.iter()
            .skip(parity)
            .step_by(2)
            .map(|s| s.frequency)
            .sum::<f64>()
            / 2000.0
    };
    assert!(mean(1) > 1.5 * mean(0), "{} vs {}", mean(1), mean(0));
    // Row 7's recency exceeds its T: the error names row 7.
    let mut bad = tx.to_vec();
    bad[7] = t[7] + 1.0;
    match with.discounted_expected_residual_transactions(&rate, x, &bad, t, z) {
        Err(retentionkit::Error::InvalidData { row, .. }) => assert_eq!(row, 7),
        other => panic!("{other:?}"),
    }
}
