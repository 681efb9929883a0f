//! Evaluation of KPI formulas over computed measures.
//!
//! Measures are the expensive part and are computed by DataFusion plans; a KPI formula is
//! arithmetic over a handful of them per bucket, evaluated here on the checked syntax tree.
//! Division by zero, a missing operand or a non-finite result gives *no value* (`None`), never
//! 0, ∞ or NaN (DESIGN §4).

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};

/// What names in a formula stand for, in one bucket of one split.
pub trait Scope {
    /// The value of a measure, KPI or parameter; `previous` asks for the previous bucket.
    fn value(&self, name: &str, previous: bool) -> Option<f64>;
    /// The length of the bucket in months (`period_months()`).
    fn period_months(&self) -> f64;
}

/// Evaluates a checked formula.
pub fn eval(expr: &Expr, scope: &dyn Scope, previous: bool) -> Option<f64> {
    let v = match expr {
        Expr::Identifier(ident) => scope.value(&ident.value, previous),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<f64>().ok(),
            _ => None,
        },
        Expr::Nested(inner) => eval(inner, scope, previous),
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => eval(expr, scope, previous).map(|v| -v),
        Expr::UnaryOp { op: UnaryOperator::Plus, expr } => eval(expr, scope, previous),
        Expr::BinaryOp { left, op, right } => {
            let l = eval(left, scope, previous)?;
            let r = eval(right, scope, previous)?;
            match op {
                BinaryOperator::Plus => Some(l + r),
                BinaryOperator::Minus => Some(l - r),
                BinaryOperator::Multiply => Some(l * r),
                BinaryOperator::Divide if r == 0.0 => None,
                BinaryOperator::Divide => Some(l / r),
                _ => None,
            }
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let args: Vec<&Expr> = match &f.args {
                FunctionArguments::List(list) => list
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut values = args.iter().map(|a| eval(a, scope, previous));
            match name.as_str() {
                "previous" => match args.first() {
                    Some(Expr::Identifier(ident)) => scope.value(&ident.value, true),
                    _ => None,
                },
                "period_months" => Some(scope.period_months()),
                "coalesce" => values.find_map(|v| v),
                "abs" => values.next().flatten().map(f64::abs),
                // As in PostgreSQL, least and greatest ignore missing values.
                "least" => values.flatten().reduce(f64::min),
                "greatest" => values.flatten().reduce(f64::max),
                "round" => {
                    let x = values.next().flatten()?;
                    let digits = values.next().flatten().unwrap_or(0.0);
                    let scale = 10f64.powi(digits as i32);
                    Some((x * scale).round() / scale)
                }
                "nullif" => {
                    let a = values.next().flatten()?;
                    let b = values.next().flatten();
                    if b == Some(a) { None } else { Some(a) }
                }
                _ => None,
            }
        }
        _ => None,
    };
    v.filter(|x| x.is_finite())
}

/// Whether a formula calls `function` anywhere.
pub fn calls(expr: &Expr, function: &str) -> bool {
    match expr {
        Expr::Nested(e) | Expr::UnaryOp { expr: e, .. } => calls(e, function),
        Expr::BinaryOp { left, right, .. } => calls(left, function) || calls(right, function),
        Expr::Function(f) => {
            f.name.to_string().eq_ignore_ascii_case(function)
                || match &f.args {
                    FunctionArguments::List(list) => list.args.iter().any(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => calls(e, function),
                        _ => false,
                    }),
                    _ => false,
                }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kpiflow_catalog::formula::{Kind, Names, parse};

    struct Any;
    impl Names for Any {
        fn check(&self, _: &str) -> Result<(), Vec<String>> {
            Ok(())
        }
        fn kind(&self) -> &'static str {
            "name"
        }
    }

    struct Fixed;
    impl Scope for Fixed {
        fn value(&self, name: &str, previous: bool) -> Option<f64> {
            match (name, previous) {
                ("cost", false) => Some(300.0),
                ("cost", true) => Some(200.0),
                ("leads", _) => Some(0.0),
                ("clicks", _) => Some(150.0),
                _ => None,
            }
        }
        fn period_months(&self) -> f64 {
            3.0
        }
    }

    fn run(text: &str) -> Option<f64> {
        eval(&parse(text, Kind::Formula, &Any).unwrap().expr, &Fixed, false)
    }

    #[test]
    fn arithmetic_and_no_value() {
        assert_eq!(run("cost / clicks * 1000"), Some(2000.0));
        assert_eq!(run("cost / leads"), None, "division by zero is no value");
        assert_eq!(run("cost / missing"), None);
        assert_eq!(run("coalesce(missing, 0) + cost"), Some(300.0));
        assert_eq!(run("(cost - previous(cost)) / previous(cost)"), Some(0.5));
        assert_eq!(run("cost / period_months()"), Some(100.0));
        assert_eq!(run("least(cost, missing, clicks)"), Some(150.0));
        assert_eq!(run("round(cost / 7, 2)"), Some(42.86));
        assert_eq!(run("nullif(leads, 0)"), None);
        assert_eq!(run("-cost"), Some(-300.0));
        assert!(calls(&parse("1 + previous(cost)", Kind::Formula, &Any).unwrap().expr, "previous"));
        assert!(!calls(&parse("1 + cost", Kind::Formula, &Any).unwrap().expr, "previous"));
    }
}
