//! A saved model is checked field by field when it is read: a damaged or
//! hand-edited file is refused with an error naming the field, never loaded
//! to fail (or panic) later; the intervals refuse a covariance of the wrong
//! size rather than index out of range.

mod common;

use retentionkit::intervals::{probability_alive_interval, IntervalOptions};
use retentionkit::{fit, BetaGeo, CustomerData, Error, FitInfo, FitOptions, Fitted, GammaGamma};
use serde_json::{json, Value};

/// BG/NBD fitted to CDNOW, as saved.
fn saved_bgnbd() -> Value {
    let (x, tx, t) = common::cdnow_summary();
    let data = CustomerData::new(&x, &tx, &t, None).unwrap().compress();
    let fitted = fit::<BetaGeo>(&data, &FitOptions::default()).unwrap();
    serde_json::from_str(&fitted.to_json()).unwrap()
}

/// The message of the error reading `saved` as BG/NBD, which must be one.
fn refusal(saved: &Value) -> String {
    match Fitted::<BetaGeo>::from_json(&saved.to_string()) {
        Ok(_) => panic!("accepted {saved}"),
        Err(e) => e.to_string(),
    }
}

/// `saved` with `edit` applied.
fn edited(saved: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut copy = saved.clone();
    edit(&mut copy);
    copy
}

#[test]
fn a_saved_fit_reads_back_and_its_covariance_is_exactly_symmetric() {
    let saved = saved_bgnbd();
    let back = Fitted::<BetaGeo>::from_json(&saved.to_string()).unwrap();
    let cov = back.info.as_ref().unwrap().covariance.clone().unwrap();
    for i in 0..4 {
        for j in 0..4 {
            assert_eq!(cov[i * 4 + j], cov[j * 4 + i]);
        }
    }
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = format!("\u{feff}{}", saved_bgnbd());
    let back = Fitted::<BetaGeo>::from_json(&text).unwrap();
    assert_eq!(
        back.model.r(),
        saved_bgnbd()["params"]["r"].as_f64().unwrap()
    );
}

#[test]
fn a_covariance_of_the_wrong_size_is_refused() {
    let saved = saved_bgnbd();
    let truncated = edited(&saved, |s| {
        s["fit"]["covariance"].as_array_mut().unwrap().truncate(3);
    });
    let message = refusal(&truncated);
    assert!(
        message.contains("\"fit.covariance\" has 3 entries"),
        "{message}"
    );
    assert!(message.contains("16 (4 × 4"), "{message}");
    let longer = edited(&saved, |s| {
        s["fit"]["covariance"]
            .as_array_mut()
            .unwrap()
            .push(json!(1.0));
    });
    assert!(refusal(&longer).contains("has 17 entries"));
    let empty = edited(&saved, |s| s["fit"]["covariance"] = json!([]));
    assert!(refusal(&empty).contains("has 0 entries"));
}

#[test]
fn an_asymmetric_or_indefinite_covariance_is_refused() {
    let saved = saved_bgnbd();
    let asymmetric = edited(&saved, |s| {
        let c = &mut s["fit"]["covariance"];
        c[1] = json!(c[1].as_f64().unwrap() * 2.0 + 1.0);
    });
    let message = refusal(&asymmetric);
    assert!(message.contains("not symmetric"), "{message}");
    assert!(message.contains("(alpha, r)"), "{message}");
    let indefinite = edited(&saved, |s| s["fit"]["covariance"][0] = json!(-1.0));
    assert!(refusal(&indefinite).contains("\"fit.covariance\" is not positive definite"));
    let text = saved.to_string();
    let not_a_number = text.replacen("\"covariance\":[", "\"covariance\":[\"NaN\",", 1);
    assert!(Fitted::<BetaGeo>::from_json(&not_a_number).is_err());
}

#[test]
fn parameters_must_be_the_models_and_valid() {
    let saved = saved_bgnbd();
    let nan = edited(&saved, |s| s["params"]["r"] = json!("NaN"));
    assert!(refusal(&nan).contains("\"params\": r is \"NaN\", not a number"));
    let negative = edited(&saved, |s| s["params"]["alpha"] = json!(-4.0));
    let message = refusal(&negative);
    assert!(
        message.contains("\"params\": alpha = -4 must be positive and finite"),
        "{message}"
    );
    let missing = edited(&saved, |s| {
        s["params"].as_object_mut().unwrap().remove("b");
    });
    assert!(refusal(&missing).contains("parameter b is missing"));
    let unknown = edited(&saved, |s| s["params"]["s"] = json!(1.0));
    let message = refusal(&unknown);
    assert!(
        message.contains("s is not a parameter of BetaGeo (its parameters are r, alpha, a, b)"),
        "{message}"
    );
}

#[test]
fn fit_statistics_must_be_possible() {
    let saved = saved_bgnbd();
    let cases = [
        ("n_customers", json!(-5.0), "\"fit.n_customers\" is -5"),
        ("n_customers", json!(0.0), "\"fit.n_customers\" is 0"),
        (
            "penalizer_coef",
            json!(-0.1),
            "\"fit.penalizer_coef\" is -0.1",
        ),
    ];
    for (field, value, expected) in cases {
        let bad = edited(&saved, |s| s["fit"][field] = value);
        let message = refusal(&bad);
        assert!(message.contains(expected), "{field}: {message}");
    }
    // JSON has no NaN or infinity: a null or a string is a type error.
    let null = edited(&saved, |s| s["fit"]["log_likelihood"] = Value::Null);
    assert!(refusal(&null).contains("invalid type: null"));
    let huge =
        saved
            .to_string()
            .replacen("\"log_likelihood\":", "\"log_likelihood\":1e999,\"x\":", 1);
    assert!(Fitted::<BetaGeo>::from_json(&huge).is_err());
}

#[test]
fn format_version_and_model_are_checked() {
    let saved = saved_bgnbd();
    for version in [0, 2] {
        let bad = edited(&saved, |s| s["version"] = json!(version));
        let message = refusal(&bad);
        assert!(
            message.contains(&format!("\"version\" is {version}")),
            "{message}"
        );
    }
    let bad = edited(&saved, |s| s["format"] = json!("lifetimes"));
    assert!(refusal(&bad).contains("its \"format\" field is \"lifetimes\""));
    let err = Fitted::<GammaGamma>::from_json(&saved.to_string()).unwrap_err();
    assert!(err
        .to_string()
        .contains("holds a BetaGeo model, not GammaGamma"));
}

#[test]
fn intervals_refuse_a_covariance_of_the_wrong_size() {
    // A Fitted built by hand skips from_json's checks.
    let fitted = Fitted {
        model: BetaGeo::new(0.243, 4.414, 0.793, 2.426).unwrap(),
        info: Some(FitInfo {
            log_likelihood: -9582.4,
            iterations: 10,
            converged: true,
            termination: None,
            covariance: Some(vec![1e-3; 3]),
            n_customers: 2357.0,
            n_unique: 1000,
            penalizer_coef: 0.0,
            warnings: Vec::new(),
        }),
        data: None,
    };
    let err = probability_alive_interval(
        &fitted,
        &[2.0],
        &[30.0],
        &[39.0],
        &IntervalOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Numerical(_)));
    assert!(err.to_string().contains("has 3 entries"), "{err}");
    assert!(fitted.standard_errors().iter().all(|s| s.is_nan()));
    assert!(fitted.summary().rows.iter().all(|r| r.se.is_nan()));
}
