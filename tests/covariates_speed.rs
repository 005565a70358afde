//! The fast paths of the covariate models (issue 13's speed targets) keep
//! the exact quantities: the analytic gradient and Hessian against
//! differences at random points, for every transaction model with
//! covariates and designs with shared coefficients, several columns and a
//! process without covariates; compression of rows on hashed covariates;
//! the first offending row of a prediction; and the Pareto/NBD's
//! interpolated terms against exact ones.

mod common;

use retentionkit::models::covariates::{
    CovariateData, CovariateDesign, CovariateModel, WithCovariates,
};
use retentionkit::pnbd::ParetoNBD;
use retentionkit::{BetaGeo, Derivatives, Model, ModifiedBetaGeo, TransactionModel};

/// A small deterministic generator (the tests need no statistical quality).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const COLUMNS: [&str; 3] = ["binary", "normal", "uniform"];

/// `n` customers with three covariates (binary, standard normal, uniform on
/// (−1, 1)) simulated from `truth`, whose design is `design`.
fn simulated<M: CovariateModel + TransactionModel>(
    truth: &WithCovariates<M>,
    n: usize,
    seed: u64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Lcg(seed);
    let z: Vec<f64> = (0..n)
        .flat_map(|_| {
            [
                f64::from(u8::from(rng.uniform() < 0.4)),
                rng.normal(),
                2.0 * rng.uniform() - 1.0,
            ]
        })
        .collect();
    let ages: Vec<f64> = (0..n).map(|i| 20.0 + (i % 40) as f64).collect();
    let sim = truth.simulate(&ages, &z, seed).unwrap();
    (
        sim.iter().map(|c| c.frequency).collect(),
        sim.iter().map(|c| c.recency).collect(),
        sim.iter().map(|c| c.age).collect(),
        z,
    )
}

fn columns() -> Vec<String> {
    COLUMNS.iter().map(|c| c.to_string()).collect()
}

/// Designs: every column in every process; one column shared and another in
/// one process only (the other processes without covariates).
fn designs<M: CovariateModel>() -> Vec<CovariateDesign> {
    let processes = M::PROCESSES.len();
    let mut one_only = vec![Vec::new(); processes];
    one_only[processes - 1] = vec![1];
    vec![
        CovariateDesign::new::<M>(&columns(), &vec![vec![0, 1, 2]; processes], &[]).unwrap(),
        CovariateDesign::new::<M>(&columns(), &one_only, &[2]).unwrap(),
    ]
}

/// The analytic gradient and Hessian match differences at random points.
fn derivatives_at_random_points<M>(base: M, seed: u64)
where
    M: CovariateModel<Data = retentionkit::CompressedData> + TransactionModel,
{
    let mut rng = Lcg(seed);
    for design in designs::<M>() {
        let k = design.coefficient_names().len();
        let truth = WithCovariates::new(base.clone(), design.clone(), vec![0.1; k]).unwrap();
        let (x, tx, t, z) = simulated(&truth, 400, seed);
        let data = CovariateData::new(&x, &tx, &t, None, &z, design).unwrap();
        for _ in 0..3 {
            let mut params: Vec<f64> = base
                .to_vec()
                .iter()
                .map(|v| v * (0.5 + rng.uniform()))
                .collect();
            params.extend((0..k).map(|_| 0.6 * rng.uniform() - 0.3));
            common::assert_derivatives::<WithCovariates<M>>(&params, &data);
        }
    }
}

#[test]
fn derivatives_match_differences_at_random_points() {
    derivatives_at_random_points(ParetoNBD::new(0.6, 12.0, 0.8, 20.0).unwrap(), 1);
    derivatives_at_random_points(BetaGeo::new(0.4, 6.0, 0.7, 2.5).unwrap(), 2);
    derivatives_at_random_points(ModifiedBetaGeo::new(0.5, 6.0, 0.9, 1.6).unwrap(), 3);
}

/// Rows sort on their history and a hash of their covariates (here 5):
/// rows that differ only in the last covariate stay apart, identical rows
/// merge, and the log-likelihood is the sum over customers.
#[test]
fn long_rows_compress_exactly() {
    let names: Vec<String> = (0..5).map(|c| format!("c{c}")).collect();
    let design = || {
        CovariateDesign::new::<BetaGeo>(&names, &[vec![0, 1, 2, 3, 4], vec![4], vec![]], &[])
            .unwrap()
    };
    // Customers 0, 1 and 3 are identical; 2 differs from them only in c4.
    let x = [2.0, 2.0, 2.0, 2.0, 0.0];
    let tx = [10.0, 10.0, 10.0, 10.0, 0.0];
    let t = [30.0; 5];
    let row = [0.5, -1.0, 1.0, 0.25, 2.0];
    let mut other = row;
    other[4] = -2.0;
    let z: Vec<f64> = [row, row, other, row, row].concat();
    let data = CovariateData::new(&x, &tx, &t, None, &z, design()).unwrap();
    assert_eq!(data.len(), 3);
    let model = WithCovariates::new(
        BetaGeo::new(0.4, 6.0, 0.7, 2.5).unwrap(),
        design(),
        vec![0.1, -0.2, 0.05, 0.3, -0.1, 0.2],
    )
    .unwrap();
    let compressed = model.evaluate(&data, Derivatives::None).value;
    let by_customer: f64 = (0..5)
        .map(|i| {
            let customer = model.for_customer(&z[5 * i..5 * i + 5]).unwrap();
            customer.customer_term(&[x[i], tx[i], t[i]], 0).value
        })
        .sum();
    assert!(
        (compressed - by_customer).abs() <= 1e-12 * by_customer.abs(),
        "{compressed} vs {by_customer}"
    );
}

/// A prediction names the first customer whose covariates overflow a
/// parameter, as the caller counts rows, and computes nothing wrong for the
/// others.
#[test]
fn predictions_name_the_first_overflowing_row() {
    let design =
        CovariateDesign::new::<ParetoNBD>(&["z".to_string()], &[vec![0], vec![]], &[]).unwrap();
    let model = WithCovariates::new(
        ParetoNBD::new(0.6, 12.0, 0.8, 20.0).unwrap(),
        design,
        vec![1.0],
    )
    .unwrap();
    let z = [0.0, 1.0, -800.0, 2.0, 900.0];
    let error = model
        .per_customer(5, &z, |m, _| m.expected_purchases(10.0))
        .unwrap_err();
    match error {
        retentionkit::Error::InvalidData { row, detail, .. } => {
            assert_eq!(row, 2);
            assert_eq!(detail, "z=-800");
        }
        other => panic!("{other:?}"),
    }
    let fine = model
        .per_customer(
            3,
            &z[..2].iter().chain(&[3.0]).copied().collect::<Vec<_>>(),
            |m, _| m.expected_purchases(10.0),
        )
        .unwrap();
    let direct = ParetoNBD::new(0.6, 12.0 * (-3.0f64).exp(), 0.8, 20.0)
        .unwrap()
        .expected_purchases(10.0);
    assert!((fine[2] - direct).abs() <= 1e-14 * direct);
}

/// The Pareto/NBD interpolates the ln S of s J(t_x) and s J(T) of customers
/// with one x over their spread of y (`customer_terms`): the log-likelihood
/// and its derivatives summed by the model match the sums of each
/// customer's exact term.
#[test]
#[allow(clippy::needless_range_loop)] // the chain rule written with indices
fn pareto_nbd_interpolated_terms_match_exact_ones() {
    let design =
        CovariateDesign::new::<ParetoNBD>(&columns(), &[vec![0, 1], vec![1, 2]], &[]).unwrap();
    let model = WithCovariates::new(
        ParetoNBD::new(0.6, 12.0, 0.8, 40.0).unwrap(),
        design.clone(),
        vec![0.4, -0.8, 0.5, 0.9],
    )
    .unwrap();
    // 600 customers without repeat purchases (two ages), 300 with three
    // repeat purchases and 200 with one (recency spread over the ages), so
    // that each x has an interpolant of its own.
    let n = 1100;
    let mut rng = Lcg(11);
    let z: Vec<f64> = (0..n)
        .flat_map(|_| {
            [
                f64::from(u8::from(rng.uniform() < 0.5)),
                rng.normal(),
                2.0 * rng.uniform() - 1.0,
            ]
        })
        .collect();
    let x: Vec<f64> = (0..n)
        .map(|i| match i {
            0..600 => 0.0,
            600..900 => 3.0,
            _ => 1.0,
        })
        .collect();
    let tx: Vec<f64> = (0..n)
        .map(|i| if i < 600 { 0.0 } else { 1.0 + (i % 29) as f64 })
        .collect();
    let t: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 30.0 } else { 52.0 })
        .collect();
    let data = CovariateData::new(&x, &tx, &t, None, &z, design).unwrap();
    let ev = model.evaluate(&data, Derivatives::Hessian);
    // The same sums customer by customer, each term exact.
    let p = 8;
    let (mut value, mut gradient, mut hessian) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    for i in 0..n {
        let zi = &z[3 * i..3 * i + 3];
        let customer = model.for_customer(zi).unwrap();
        let term = customer.customer_term(&[x[i], tx[i], t[i]], 2);
        value += term.value;
        // Chain rule to (r, α, s, β, γ): α_i = α e^{−γ_p z}, β_i = β e^{−γ_d z}.
        let phi = [
            customer.r(),
            customer.alpha(),
            customer.s(),
            customer.beta(),
        ];
        let base = [0.6, 12.0, 0.8, 40.0];
        let mut jac = vec![[0.0; 8]; 4];
        for j in 0..4 {
            jac[j][j] = phi[j] / base[j];
        }
        jac[1][4] = -phi[1] * zi[0];
        jac[1][5] = -phi[1] * zi[1];
        jac[3][6] = -phi[3] * zi[1];
        jac[3][7] = -phi[3] * zi[2];
        for a in 0..p {
            for j in 0..4 {
                gradient[a] += term.grad[j] * jac[j][a];
            }
            for b in 0..p {
                for j in 0..4 {
                    for l in 0..4 {
                        hessian[a * p + b] += term.hess[j][l] * jac[j][a] * jac[l][b];
                    }
                }
            }
        }
        // Σⱼ gⱼ ∂²φⱼ/∂θ∂θ: ∂²α_i/∂α∂γ = −e^{η} z, ∂²α_i/∂γ∂γ = α_i z z.
        for (j, cols, first) in [(1, [0, 1], 4), (3, [1, 2], 6)] {
            let g = term.grad[j];
            for (u, &cu) in cols.iter().enumerate() {
                let cross = -g * phi[j] / base[j] * zi[cu];
                hessian[j * p + first + u] += cross;
                hessian[(first + u) * p + j] += cross;
                for (v, &cv) in cols.iter().enumerate() {
                    hessian[(first + u) * p + first + v] += g * phi[j] * zi[cu] * zi[cv];
                }
            }
        }
    }
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs().max(1.0),
            "{what}: {a} by the model vs {b} customer by customer"
        );
    };
    close(ev.value, value, "log-likelihood");
    for a in 0..p {
        close(ev.gradient[a], gradient[a], "gradient");
        for b in 0..p {
            close(ev.hessian[a * p + b], hessian[a * p + b], "hessian");
        }
    }
}

/// The batch E[Y(t) | x, t_x, T] of customers with covariates
/// (`WithCovariates::conditional_expected_purchases`, the BG family's four
/// customers in lockstep) is each customer's own value, bit for bit: over
/// chunks and a remainder of fewer than four, with t = 0, horizons long
/// enough for the quadrature, and parameters whose series has terms of both
/// signs; and it names the first customer whose covariates overflow.
fn batch_expectations_are_each_customers<M>(base: M, coefficients: [f64; 3], seed: u64)
where
    M: CovariateModel<Data = retentionkit::CompressedData> + TransactionModel,
{
    let design =
        CovariateDesign::new::<M>(&columns(), &vec![vec![0, 1, 2]; M::PROCESSES.len()], &[])
            .unwrap();
    let k = design.coefficient_names().len();
    let gamma: Vec<f64> = (0..k).map(|c| coefficients[c % 3]).collect();
    let model = WithCovariates::new(base, design, gamma).unwrap();
    let n = 2 * 1024 + 7;
    let (x, tx, t, z) = simulated(&model, n, seed);
    let horizon: Vec<f64> = (0..n)
        .map(|i| match i % 9 {
            0 => 0.0,
            1 => 5000.0,
            _ => 1.0 + (i % 50) as f64,
        })
        .collect();
    let batch = model
        .conditional_expected_purchases(&horizon, &x, &tx, &t, &z)
        .unwrap();
    for i in 0..n {
        let own = model
            .for_customer(&z[3 * i..3 * i + 3])
            .unwrap()
            .conditional_expected_purchases(horizon[i], x[i], tx[i], t[i]);
        assert_eq!(
            batch[i].to_bits(),
            own.to_bits(),
            "customer {i}: {} vs {own}",
            batch[i]
        );
    }
    let mut bad = z.clone();
    for row in [1500, 1900] {
        bad[3 * row + 1] = 1e6; // exp(±1e5 or more): a parameter of 0 or ∞
    }
    match model.conditional_expected_purchases(&horizon, &x, &tx, &t, &bad) {
        Err(retentionkit::Error::InvalidData { row, .. }) => assert_eq!(row, 1500),
        other => panic!("{other:?}"),
    }
}

#[test]
fn batch_expectations_equal_each_customers_own() {
    let bg = BetaGeo::new(0.4, 6.0, 0.7, 2.5).unwrap();
    batch_expectations_are_each_customers(bg, [0.3, -0.2, 0.1], 11);
    // a + b − 1 − r < 0 for many customers: terms of both signs.
    let mixed = BetaGeo::new(2.5, 6.0, 0.4, 0.9).unwrap();
    batch_expectations_are_each_customers(mixed, [0.3, -0.2, 0.1], 12);
    let mbg = ModifiedBetaGeo::new(0.5, 6.0, 0.9, 1.6).unwrap();
    batch_expectations_are_each_customers(mbg, [0.2, 0.1, -0.3], 13);
    let pnbd = ParetoNBD::new(0.6, 12.0, 0.8, 20.0).unwrap();
    batch_expectations_are_each_customers(pnbd, [0.3, -0.2, 0.1], 14);
}

/// The plain data of a covariate fit, built from the rows sorted for the
/// covariates, are the plain model's compression of the same customers:
/// customers with T = 0 counted apart, weights summed, every field equal.
#[test]
fn plain_data_of_covariate_rows_equal_the_plain_compression() {
    let design =
        CovariateDesign::new::<BetaGeo>(&columns(), &[vec![0], vec![1], vec![2]], &[]).unwrap();
    let truth = WithCovariates::new(
        BetaGeo::new(0.4, 6.0, 0.7, 2.5).unwrap(),
        design.clone(),
        vec![0.3, -0.2, 0.1],
    )
    .unwrap();
    let n = 3000;
    let (x, tx, mut t, mut z) = simulated(&truth, n, 21);
    // Coarse covariates, so that customers share rows; some new customers.
    for v in z.iter_mut() {
        *v = v.round();
    }
    for i in (0..n).step_by(97) {
        t[i] = 0.0;
    }
    let x: Vec<f64> = x
        .iter()
        .zip(&t)
        .map(|(&x, &t)| if t == 0.0 { 0.0 } else { x })
        .collect();
    let tx: Vec<f64> = tx
        .iter()
        .zip(&t)
        .map(|(&v, &t)| if t == 0.0 { 0.0 } else { v })
        .collect();
    // Weights that sum exactly in any order, and some zeros.
    let w: Vec<f64> = (0..n).map(|i| [1.0, 0.5, 2.0, 0.0, 0.25][i % 5]).collect();
    for weights in [None, Some(&w[..])] {
        let data = CovariateData::new(&x, &tx, &t, weights, &z, design.clone()).unwrap();
        let plain = retentionkit::CustomerData::new(&x, &tx, &t, weights)
            .unwrap()
            .compress();
        assert!(data.len() < n - n / 5, "{} rows", data.len()); // rows merged
        assert_eq!(data.without_covariates(), &plain);
    }
}
