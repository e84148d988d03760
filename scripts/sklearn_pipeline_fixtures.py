#!/usr/bin/python3
"""Generate the scikit-learn composition and preprocessing fixtures under
testdata/sklearn/pipeline/.

    /usr/bin/python3 scripts/sklearn_pipeline_fixtures.py [outdir]

Each model is fitted on a dataset scikit-learn ships (breast_cancer, wine,
diabetes, iris), some on pandas DataFrames with a column binned into string
categories, and written with pickle protocol 4 (plus joblib and protocol 2
for one model of each family). <name>.json holds:

  columns   feature names (a DataFrame-fitted model) or null
  inputs    rows, one value per feature: numbers, strings (text columns),
            null for NaN
  predict   scikit-learn's predict (or transform, rows of numbers, null for
            NaN) of every row
  proba     predict_proba's rows, when the model has it
  classes   classes_, when the model has them
  error     for models that refuse the rows: words the error must contain

mixed.csv holds the DataFrame rows the "mixed" models are tested on, for the
SQL tests (one argument per column, text columns included).
manifest.json lists every model and its files. Kept small: the Go tests
need no Python.
"""

import json
import os
import pickle
import sys

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (FunctionTransformer, MaxAbsScaler,
                                   MinMaxScaler, Normalizer, OneHotEncoder,
                                   OrdinalEncoder, PolynomialFeatures,
                                   RobustScaler, StandardScaler)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "sklearn", "pipeline")

rng = np.random.RandomState(0)


def jsonable(v):
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is None:
        return None
    return v


def rowlist(X):
    if hasattr(X, "to_numpy"):
        X = X.to_numpy(dtype=object)
    return [[jsonable(v) for v in r] for r in X]


def sample(X, n=30):
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    return X[idx]


def with_nan(X, frac=0.1):
    X = X.astype(float).copy()
    mask = rng.rand(*X.shape) < frac
    X[mask] = np.nan
    return X


MODELS = []


def save(name, est, X, kind="predict", columns=None, extra_formats=False, error=None):
    os.makedirs(OUT, exist_ok=True)
    files = [name + ".p4.pkl"]
    with open(os.path.join(OUT, files[0]), "wb") as f:
        pickle.dump(est, f, protocol=4)
    if extra_formats:
        files.append(name + ".p2.pkl")
        with open(os.path.join(OUT, files[-1]), "wb") as f:
            pickle.dump(est, f, protocol=2)
        files.append(name + ".joblib")
        joblib.dump(est, os.path.join(OUT, files[-1]))
    doc = {"name": name, "class": type(est).__name__, "columns": columns,
           "inputs": rowlist(X), "kind": kind}
    if error:
        doc["error"] = error
    elif kind == "transform":
        doc["predict"] = rowlist(np.asarray(est.transform(X).todense()
                                            if hasattr(est.transform(X), "todense") else est.transform(X), dtype=float))
    else:
        doc["predict"] = [jsonable(v) for v in est.predict(X)]
        if hasattr(est, "predict_proba"):
            doc["proba"] = rowlist(est.predict_proba(X))
            doc["classes"] = [jsonable(c) for c in est.classes_]
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False)
    MODELS.append({"name": name, "files": files})


def transformers():
    wine = datasets.load_wine()
    X = wine.data[:, :6]
    Xn = with_nan(X, 0.05)
    test = np.vstack([sample(X, 20), with_nan(sample(X, 10), 0.3),
                      X.min(axis=0) - 1, X.max(axis=0) + 1, np.zeros(6)])
    test_finite = np.vstack([sample(X, 25), X.min(axis=0) - 1, X.max(axis=0) + 1, np.zeros(6)])
    save("standard_scaler", StandardScaler().fit(Xn), test, "transform", extra_formats=True)
    save("standard_scaler_nomean", StandardScaler(with_mean=False).fit(X), test, "transform")
    save("standard_scaler_nostd", StandardScaler(with_std=False).fit(X), test, "transform")
    save("standard_scaler_none", StandardScaler(with_mean=False, with_std=False).fit(X), test, "transform")
    save("minmax_scaler", MinMaxScaler().fit(Xn), test, "transform")
    save("minmax_scaler_clip", MinMaxScaler(feature_range=(-1, 2), clip=True).fit(X), test, "transform")
    save("maxabs_scaler", MaxAbsScaler().fit(Xn), test, "transform")
    save("robust_scaler", RobustScaler().fit(Xn), test, "transform")
    save("robust_scaler_nocenter", RobustScaler(with_centering=False, quantile_range=(10, 90)).fit(X), test, "transform")
    save("robust_scaler_noscale", RobustScaler(with_scaling=False).fit(X), test, "transform")
    for norm in ("l1", "l2", "max"):
        save("normalizer_" + norm, Normalizer(norm=norm).fit(X), test_finite, "transform")
    # a column with no observed value: dropped by mean/median/most_frequent
    Xe = Xn.copy()
    Xe[:, 2] = np.nan
    for strat in ("mean", "median", "most_frequent"):
        save("imputer_" + strat, SimpleImputer(strategy=strat).fit(Xe), test, "transform")
    save("imputer_constant", SimpleImputer(strategy="constant", fill_value=-7.5).fit(Xe), test, "transform")
    save("imputer_keep_empty", SimpleImputer(keep_empty_features=True).fit(Xe), test, "transform")
    save("imputer_indicator", SimpleImputer(strategy="median", add_indicator=True).fit(Xe), test, "transform",
         extra_formats=True)
    # missing_values a number: NaN is then refused, -1 replaced
    Xm = np.where(np.isnan(Xn), -1, Xn)
    testm = np.where(np.isnan(test), -1, test)
    save("imputer_number", SimpleImputer(missing_values=-1, strategy="mean", add_indicator=True).fit(Xm), testm, "transform")
    save("missing_indicator", MissingIndicator(features="all").fit(Xn), test, "transform")
    Xs = X[:, :4]
    ts = test_finite[:, :4]
    save("poly2", PolynomialFeatures(2).fit(Xs), ts, "transform", extra_formats=True)
    save("poly3_interaction", PolynomialFeatures(3, interaction_only=True, include_bias=False).fit(Xs), ts, "transform")
    save("poly_range", PolynomialFeatures((2, 3)).fit(Xs), ts, "transform")
    save("poly_range_nobias", PolynomialFeatures((2, 3), include_bias=False).fit(Xs), ts, "transform")
    save("function_identity", FunctionTransformer().fit(X), test, "transform", extra_formats=True)


def encoders():
    iris = datasets.load_iris()
    # integer categories from binned iris features
    Xi = np.floor(iris.data[:, :3]).astype(float)
    test = np.vstack([sample(Xi, 20), [[4, 2, 1], [5, 3, 6], [6, 2, 4]]])
    testu = np.vstack([test, [[9, 2, 1], [5, 7, 1], [5, 3, 99]]])  # unknown categories
    save("ohe_numbers", OneHotEncoder(sparse_output=False).fit(Xi), test, "transform", extra_formats=True)
    save("ohe_sparse_ignore", OneHotEncoder(handle_unknown="ignore").fit(Xi), testu, "transform")
    save("ohe_first", OneHotEncoder(drop="first", handle_unknown="ignore").fit(Xi), testu, "transform")
    Xb = np.c_[Xi[:, :1], (iris.data[:, 3] > 1).astype(float)]
    testb = np.vstack([Xb[:10], Xb[-10:], [[9, 1]]])
    save("ohe_if_binary", OneHotEncoder(drop="if_binary", handle_unknown="ignore").fit(Xb), testb, "transform")
    save("ohe_explicit_drop", OneHotEncoder(drop=[5.0, 3.0, 1.0]).fit(Xi), test, "transform")
    save("ohe_infrequent", OneHotEncoder(min_frequency=10, handle_unknown="infrequent_if_exist").fit(Xi), testu, "transform")
    save("ohe_max_categories", OneHotEncoder(max_categories=3, handle_unknown="infrequent_if_exist",
                                             drop="first").fit(Xi), testu, "transform")
    save("ohe_unknown_error", OneHotEncoder().fit(Xi), testu, "transform",
         error="Found unknown categories")
    # numeric NaN as a category
    Xnan = Xi.copy()
    Xnan[::7, 1] = np.nan
    testnan = np.vstack([test, [[5, np.nan, 1]]])
    save("ohe_nan", OneHotEncoder(handle_unknown="ignore").fit(Xnan), testnan, "transform")
    save("ordinal_numbers", OrdinalEncoder().fit(Xi), test, "transform")
    save("ordinal_unknown", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                           encoded_missing_value=-2).fit(Xnan), np.vstack([testu, testnan[-1:]]), "transform")
    # string categories (object columns), with NaN/None among them
    df = mixed_frame()
    cats = df[["size", "shade"]]
    tcats = mixed_test()[["size", "shade"]]
    save("ohe_strings", OneHotEncoder(handle_unknown="ignore").fit(cats), tcats, "transform",
         columns=list(cats.columns), extra_formats=True)
    save("ohe_strings_infrequent", OneHotEncoder(min_frequency=0.2, handle_unknown="infrequent_if_exist").fit(cats),
         tcats, "transform", columns=list(cats.columns))
    save("ordinal_strings", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan).fit(cats),
         tcats, "transform", columns=list(cats.columns), extra_formats=True)
    save("ohe_strings_error", OneHotEncoder().fit(cats), tcats, "transform",
         columns=list(cats.columns), error="unknown")


SIZES = np.array(["small", "medium", "large", "huge"], dtype=object)


def mixed_frame():
    """breast_cancer's first columns as a DataFrame with two string columns:
    'size' bins mean area, 'shade' bins mean texture."""
    bc = datasets.load_breast_cancer()
    df = pd.DataFrame(bc.data[:, :6], columns=[c.replace(" ", "_") for c in bc.feature_names[:6]])
    df["size"] = SIZES[np.digitize(bc.data[:, 3], [400, 700, 1200])]
    df["shade"] = np.where(bc.data[:, 1] > 19, "dark", "light").astype(object)
    df = df[["mean_radius", "size", "mean_texture", "shade", "mean_perimeter", "mean_area",
             "mean_smoothness", "mean_compactness"]]
    return df


def mixed_target():
    return datasets.load_breast_cancer().target


def mixed_test():
    df = mixed_frame()
    t = df.iloc[rng.choice(len(df), 30, replace=False)].copy()
    t.iloc[0, 1] = "gigantic"  # unknown categories
    t.iloc[1, 3] = "purple"
    t.iloc[2, 1] = "tiny"
    return t.reset_index(drop=True)


def pipelines():
    bc = datasets.load_breast_cancer()
    Xb, yb = bc.data, bc.target
    tb = np.vstack([sample(Xb, 30), Xb.min(axis=0), Xb.max(axis=0)])
    save("scaler_logreg", Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]).fit(Xb, yb),
         tb, extra_formats=True)
    diab = datasets.load_diabetes()
    Xd, yd = with_nan(diab.data, 0.05), diab.target
    td = np.vstack([sample(Xd, 20), with_nan(sample(diab.data, 10), 0.4)])
    save("imputer_linreg", Pipeline([("impute", SimpleImputer()), ("lr", LinearRegression())]).fit(Xd, yd), td)
    save("poly_ridge", Pipeline([("poly", PolynomialFeatures(2)), ("scale", StandardScaler()),
                                 ("ridge", Ridge(alpha=1.0))]).fit(diab.data, yd), sample(diab.data, 25))
    wine = datasets.load_wine()
    Xw, yw = wine.data, wine.target
    tw = np.vstack([sample(Xw, 25), Xw.min(axis=0), Xw.max(axis=0)])
    union = FeatureUnion([("pca", Pipeline([("s", StandardScaler()), ("p", PCA(3))])), ("scale", StandardScaler()),
                          ("off", "drop")], transformer_weights={"pca": 2.0, "scale": 0.5})
    save("union_logreg", Pipeline([("union", union), ("clf", LogisticRegression(max_iter=2000))]).fit(Xw, yw), tw,
         extra_formats=True)
    save("union_alone", FeatureUnion([("pca", PCA(2)), ("pass", "passthrough"), ("mm", MinMaxScaler())]).fit(Xw[:, :5]),
         tw[:, :5], "transform")
    # positional ColumnTransformer on an array: slices, masks, remainder
    mask = np.zeros(13, dtype=bool)
    mask[[0, 5]] = True
    ct = ColumnTransformer([("a", StandardScaler(), slice(1, 4)), ("b", MinMaxScaler(), mask),
                            ("c", "passthrough", [12, 11]), ("d", "drop", [6]), ("e", RobustScaler(), [])],
                           remainder=MaxAbsScaler())
    save("ct_positions", ct.fit(Xw), tw, "transform", extra_formats=True)
    ct2 = ColumnTransformer([("a", StandardScaler(), [0, 2]), ("b", PCA(2), slice(3, 8))], remainder="passthrough",
                            transformer_weights={"b": 3.0})
    save("ct_forest", Pipeline([("ct", ct2), ("rf", RandomForestClassifier(n_estimators=5, max_depth=4,
                                                                            random_state=0))]).fit(Xw, yw), tw)

    df, y = mixed_frame(), mixed_target()
    t = mixed_test()
    num = ["mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness"]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["size", "shade"]),
                            ("num", StandardScaler(), num)])
    save("mixed_logreg", Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(df, y), t,
         columns=list(df.columns), extra_formats=True)
    ct = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["size", "shade"])],
                           remainder="passthrough")
    save("mixed_forest", Pipeline([("ct", ct), ("rf", RandomForestClassifier(n_estimators=8, max_depth=5,
                                                                            random_state=0))]).fit(df, y), t,
         columns=list(df.columns))
    # nested: pipelines inside a ColumnTransformer inside a pipeline, with
    # NaN in numeric test rows
    numpipe = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())])
    catpipe = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                        ("ohe", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=30, drop="if_binary"))])
    ct = ColumnTransformer([("num", numpipe, num[:4]), ("cat", catpipe, ["size", "shade"])], remainder="drop")
    dfn = df.copy()
    dfn.loc[dfn.index[::9], "mean_texture"] = np.nan
    tn = t.copy()
    tn.loc[[3, 4, 5], "mean_area"] = np.nan
    save("mixed_nested", Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(dfn, y), tn,
         columns=list(df.columns))
    # NaN (pandas' missing value) in the text columns too, in fit and in
    # the test rows: SQL's NULL there must reach the text imputer (filled
    # with a known category, so that a missing value read as some text
    # would show), and a OneHotEncoder that saw NaN in fit
    dft = dfn.copy()
    dft.loc[dft.index[::7], "size"] = np.nan
    dft.loc[dft.index[3::11], "shade"] = np.nan
    tt = tn.copy()
    tt.loc[[1, 4, 9], "size"] = np.nan
    tt.loc[[2, 4, 7], "shade"] = np.nan
    catpipe = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                        ("ohe", OneHotEncoder(handle_unknown="ignore"))])
    ct = ColumnTransformer([("num", numpipe, num[:4]), ("cat", catpipe, ["size", "shade"])])
    save("mixed_text_missing", Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(dft, y), tt,
         columns=list(df.columns))
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["size", "shade"]),
                            ("num", SimpleImputer(strategy="median"), num)])
    save("mixed_text_nan_category", Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(dft, y), tt,
         columns=list(df.columns))
    # missing values taken in some features only: NaN in a text column is
    # an unknown category to OneHotEncoder(handle_unknown='ignore'), while
    # the numbers are scaled for a LogisticRegression that refuses NaN
    # (the test rows hold NaN in text columns only)
    tx = t.copy()
    tx.loc[[1, 4, 9], "size"] = np.nan
    tx.loc[[2, 4, 7], "shade"] = np.nan
    ct = ColumnTransformer([("cat", OneHotEncoder(drop="first", handle_unknown="ignore"), ["size", "shade"])],
                           remainder="passthrough")
    save("mixed_text_unknown", Pipeline([("ct", ct), ("scale", StandardScaler()),
                                         ("clf", LogisticRegression(max_iter=5000))]).fit(df, y), tx,
         columns=list(df.columns))
    # sparse_output_ True: the same numbers as the dense result
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["size", "shade"]),
                            ("num", StandardScaler(with_mean=False), num)], sparse_threshold=1.0)
    sparse = Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(df, y)
    assert sparse.named_steps["ct"].sparse_output_
    save("mixed_sparse", sparse, t, columns=list(df.columns))
    save("mixed_ct_alone", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [1, 3]),
                                              ("num", StandardScaler(), slice(4, 6))],
                                             remainder="passthrough").fit(df), t, "transform",
         columns=list(df.columns))
    reg = Pipeline([("ct", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["size", "shade"])],
                                             remainder=StandardScaler())),
                    ("rf", RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0))])
    save("mixed_regressor", reg.fit(df.drop(columns=["mean_radius"]), df["mean_radius"]),
         t.drop(columns=["mean_radius"]), columns=[c for c in df.columns if c != "mean_radius"])
    t.to_csv(os.path.join(OUT, "mixed.csv"), index=False)
    # numbers only, missing values taken in the imputed columns 0 and 1,
    # not in the scaled 2 and 3 (the test rows hold NaN in 0 and 1 only)
    ir = datasets.load_iris()
    Xn = ir.data.copy()
    Xn[::7, 0] = np.nan
    Xn[3::9, 1] = np.nan
    ct = ColumnTransformer([("imp", SimpleImputer(strategy="mean"), [0, 1]), ("sc", StandardScaler(), [2, 3])])
    tn = ir.data[::5].copy()
    tn[::3, 0] = np.nan
    tn[1::4, 1] = np.nan
    save("partial_imputer", Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=5000))]).fit(Xn, ir.target), tn)


def refused():
    wine = datasets.load_wine()
    ft = FunctionTransformer(np.log1p).fit(wine.data)
    with open(os.path.join(OUT, "function_log1p.p4.pkl"), "wb") as f:
        pickle.dump(ft, f, protocol=4)
    # an XGBoost wrapper as a pipeline's final step (python3-xgboost)
    from xgboost import XGBClassifier
    bc = datasets.load_breast_cancer()
    xp = Pipeline([("scale", StandardScaler()), ("xgb", XGBClassifier(n_estimators=3, max_depth=2))])
    with open(os.path.join(OUT, "pipeline_xgboost.p4.pkl"), "wb") as f:
        pickle.dump(xp.fit(bc.data, bc.target), f, protocol=4)


def main():
    transformers()
    encoders()
    pipelines()
    refused()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "models": MODELS}, f, indent=1)


if __name__ == "__main__":
    main()
