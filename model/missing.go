package model

// MissingAware is implemented by models that handle a missing numeric
// feature themselves: gradient-boosted trees that route NaN down each
// split's default branch (XGBoost, LightGBM, scikit-learn's
// HistGradientBoosting), or a pipeline that starts by imputing. SQL's
// NULL then means "missing", as in BigQuery ML and in XGBoost's DMatrix
// built from pandas: when TakesMissing is true, the engine hands the
// model NaN for a NULL numeric argument, list element or STRUCT field
// instead of making the row's result NULL without calling it. A NULL
// list and a NULL whole row still give NULL.
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

// MissingFeatures is implemented by models that handle a missing value
// in some features and not in others: a scikit-learn pipeline whose
// OneHotEncoder (handle_unknown='ignore') takes a missing category while
// its scaled numbers reach a LogisticRegression that refuses NaN. The
// engine hands such a model NaN for a NULL in the features whose entry
// is true, and makes the row's result NULL for a NULL elsewhere. A model
// whose TakesMissing is true takes missing values in every feature.
type MissingFeatures interface {
	// TakesMissingIn reports, feature by feature in the order the model
	// takes them, whether a NaN there is a missing value it handles; nil
	// when it handles none. It must not change after Load.
	TakesMissingIn() []bool
}
