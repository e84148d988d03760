package model

// MissingAware is implemented by models that handle a missing numeric
// feature themselves: gradient-boosted trees that route NaN down each
// split's default branch (XGBoost, LightGBM, scikit-learn's
// HistGradientBoosting), or a pipeline that starts by imputing. SQL's
// NULL then means "missing", as in BigQuery ML and in XGBoost's DMatrix
// built from pandas: when TakesMissing is true, the engine hands the
// model NaN for a NULL numeric argument, list element or STRUCT field
// instead of making the row's result NULL without calling it. A NULL
// list, a NULL whole row and a NULL text feature still give NULL.
//
// Models that do not implement it (or return false) keep SQL's rule: a
// row with a NULL feature gets a NULL prediction, since a model that
// refuses NaN (scikit-learn's LogisticRegression) would otherwise fail
// the query.
type MissingAware interface {
	// TakesMissing reports whether a NaN feature is a missing value this
	// model (as configured) handles. It must not change after Load.
	TakesMissing() bool
}
