//! Formulas and filters: SQL expressions parsed with the SQL parser DataFusion uses, then checked
//! against an allow-list. Nothing is ever turned back into SQL text and pasted into a query: the
//! engine compiles the checked syntax tree into DataFusion expressions.
//!
//! A **KPI formula** combines names (measures, other KPIs, parameters) with numbers, `+ - * /`,
//! parentheses and a few functions ([`FORMULA_FUNCTIONS`]). A **measure expression** (its value
//! or filter) reads the columns of its source with literals, comparisons, `AND`/`OR`/`NOT`,
//! `IN (...)`, `BETWEEN`, `IS [NOT] NULL`, `LIKE` and [`MEASURE_FUNCTIONS`]. Subqueries, window
//! functions, aggregates, wildcards and anything else are refused.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use kpiflow_model::suggest::did_you_mean;

/// Functions a KPI formula may call: `previous(x)` is `x` in the previous period of the same
/// length; `period_months()` the length of the period in months.
pub const FORMULA_FUNCTIONS: &[&str] =
    &["previous", "period_months", "coalesce", "abs", "least", "greatest", "round", "nullif"];

/// Functions a measure's value or filter may call.
pub const MEASURE_FUNCTIONS: &[&str] =
    &["coalesce", "abs", "round", "nullif", "lower", "upper", "length", "least", "greatest"];

/// A parsed, checked expression with the names it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The text as written.
    pub text: String,
    /// The checked syntax tree.
    pub expr: Expr,
    /// Every identifier used, in order of first appearance.
    pub names: Vec<String>,
}

/// Why an expression is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {message}")]
pub struct FormulaError {
    pub text: String,
    pub message: String,
}

/// What the identifiers of an expression may be.
pub trait Names {
    /// `None` when `name` is known; otherwise the candidates, for "did you mean".
    fn check(&self, name: &str) -> Result<(), Vec<String>>;
    /// What the names are, for messages ("measure, KPI or parameter").
    fn kind(&self) -> &'static str;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A KPI formula over measures, KPIs and parameters.
    Formula,
    /// A measure's value or filter over its source's columns.
    Measure,
}

/// Parses `text` and checks it against the allow-list of `kind` and the `names` in scope.
pub fn parse(text: &str, kind: Kind, names: &dyn Names) -> Result<Formula, FormulaError> {
    let fail = |message: String| FormulaError { text: text.to_owned(), message };
    let dialect = GenericDialect {};
    let mut parser =
        Parser::new(&dialect).try_with_sql(text).map_err(|e| fail(format!("cannot parse: {e}")))?;
    let expr = parser.parse_expr().map_err(|e| fail(format!("cannot parse: {e}")))?;
    let rest = parser.peek_token();
    if rest.token != sqlparser::tokenizer::Token::EOF {
        return Err(fail(format!("unexpected `{}` after the expression", rest.token)));
    }
    let mut checker = Checker { kind, names, found: Vec::new() };
    checker.expr(&expr).map_err(fail)?;
    Ok(Formula { text: text.to_owned(), expr, names: checker.found })
}

struct Checker<'a> {
    kind: Kind,
    names: &'a dyn Names,
    found: Vec<String>,
}

impl Checker<'_> {
    fn name(&mut self, name: &str) -> Result<(), String> {
        if let Err(candidates) = self.names.check(name) {
            if candidates.is_empty() {
                return Err(format!("`{name}` cannot refer to itself"));
            }
            let hint = did_you_mean(name, candidates.iter().map(String::as_str))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!("unknown {} `{name}`{hint}", self.names.kind()));
        }
        if !self.found.iter().any(|f| f == name) {
            self.found.push(name.to_owned());
        }
        Ok(())
    }

    fn expr(&mut self, expr: &Expr) -> Result<(), String> {
        let formula = self.kind == Kind::Formula;
        match expr {
            Expr::Identifier(ident) => self.name(&ident.value),
            Expr::Value(v) => match &v.value {
                Value::Number(..) => Ok(()),
                Value::SingleQuotedString(_) | Value::Boolean(_) | Value::Null if !formula => {
                    Ok(())
                }
                other => Err(format!("the value `{other}` is not allowed here")),
            },
            Expr::Nested(inner) => self.expr(inner),
            Expr::UnaryOp { op: UnaryOperator::Minus | UnaryOperator::Plus, expr } => {
                self.expr(expr)
            }
            Expr::UnaryOp { op: UnaryOperator::Not, expr } if !formula => self.expr(expr),
            Expr::BinaryOp { left, op, right } => {
                let arithmetic = matches!(
                    op,
                    BinaryOperator::Plus
                        | BinaryOperator::Minus
                        | BinaryOperator::Multiply
                        | BinaryOperator::Divide
                );
                let logical = matches!(
                    op,
                    BinaryOperator::Eq
                        | BinaryOperator::NotEq
                        | BinaryOperator::Lt
                        | BinaryOperator::LtEq
                        | BinaryOperator::Gt
                        | BinaryOperator::GtEq
                        | BinaryOperator::And
                        | BinaryOperator::Or
                        | BinaryOperator::Modulo
                );
                if arithmetic || (logical && !formula) {
                    self.expr(left)?;
                    self.expr(right)
                } else {
                    Err(format!("the operator `{op}` is not allowed here"))
                }
            }
            Expr::IsNull(e) | Expr::IsNotNull(e) | Expr::IsTrue(e) | Expr::IsFalse(e)
                if !formula =>
            {
                self.expr(e)
            }
            Expr::InList { expr, list, .. } if !formula => {
                self.expr(expr)?;
                list.iter().try_for_each(|e| self.expr(e))
            }
            Expr::Between { expr, low, high, .. } if !formula => {
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)
            }
            Expr::Like { expr, pattern, escape_char: None, any: false, .. }
            | Expr::ILike { expr, pattern, escape_char: None, any: false, .. }
                if !formula =>
            {
                self.expr(expr)?;
                self.expr(pattern)
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_lowercase();
                let allowed = if formula { FORMULA_FUNCTIONS } else { MEASURE_FUNCTIONS };
                if !allowed.contains(&name.as_str()) {
                    let hint = did_you_mean(&name, allowed.iter().copied())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    return Err(format!(
                        "the function `{name}` is not allowed{hint}; allowed: {}",
                        allowed.join(", ")
                    ));
                }
                if f.filter.is_some() || f.over.is_some() || !f.within_group.is_empty() {
                    return Err(format!("`{name}` takes plain arguments only"));
                }
                let args = match &f.args {
                    FunctionArguments::None => Vec::new(),
                    FunctionArguments::List(list)
                        if list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
                    {
                        let mut args = Vec::new();
                        for a in &list.args {
                            match a {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e),
                                _ => return Err(format!("`{name}` takes plain arguments only")),
                            }
                        }
                        args
                    }
                    _ => return Err(format!("`{name}` takes plain arguments only")),
                };
                match name.as_str() {
                    "previous" if !matches!(args.as_slice(), [Expr::Identifier(_)]) => {
                        return Err("previous() takes one measure or KPI name".into());
                    }
                    "period_months" if !args.is_empty() => {
                        return Err("period_months() takes no argument".into());
                    }
                    _ => {}
                }
                args.into_iter().try_for_each(|e| self.expr(e))
            }
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                Err("subqueries are not allowed".into())
            }
            other => Err(format!("`{other}` is not allowed here")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static [&'static str]);

    impl Names for Fixed {
        fn check(&self, name: &str) -> Result<(), Vec<String>> {
            if self.0.contains(&name) {
                Ok(())
            } else {
                Err(self.0.iter().map(|s| s.to_string()).collect())
            }
        }
        fn kind(&self) -> &'static str {
            "name"
        }
    }

    const MEASURES: Fixed = Fixed(&["ad_cost", "leads", "won_revenue"]);

    #[test]
    fn formulas_collect_their_names() {
        let f = parse(
            "(won_revenue - previous(won_revenue)) / ad_cost * 100",
            Kind::Formula,
            &MEASURES,
        )
        .unwrap();
        assert_eq!(f.names, ["won_revenue", "ad_cost"]);
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            ("ad_cost / leeds", Kind::Formula),
            ("ad_cost / (SELECT 1)", Kind::Formula),
            ("sum(ad_cost)", Kind::Formula),
            ("ad_cost; DROP TABLE x", Kind::Formula),
            ("ad_cost > 1", Kind::Formula),
            ("previous(ad_cost + 1)", Kind::Formula),
            ("'text'", Kind::Formula),
            ("leads IN (SELECT 1)", Kind::Measure),
            ("count(*) > 1", Kind::Measure),
            ("coalesce(leads, 0) OVER ()", Kind::Measure),
        ];
        let out: Vec<String> =
            cases.iter().map(|(t, k)| parse(t, *k, &MEASURES).unwrap_err().to_string()).collect();
        insta::assert_snapshot!(out.join("\n"));
    }

    #[test]
    fn measure_filters_allow_predicates() {
        for text in [
            "leads IN ('a', 'b') AND NOT ad_cost IS NULL",
            "ad_cost BETWEEN 1 AND 2 OR lower(leads) LIKE 'x%'",
            "leads",
        ] {
            parse(text, Kind::Measure, &MEASURES).unwrap();
        }
    }
}
