#!/usr/bin/python3
"""Generate the fixtures of scikit-learn's linear models and the others
under testdata/sklearn/more/.

Run with Debian's packages (python3-sklearn, python3-joblib, python3-pandas)
and the system interpreter:

    /usr/bin/python3 scripts/sklearn_more_fixtures.py [outdir]

Each model is fitted on a dataset that scikit-learn ships (iris, wine,
breast_cancer, diabetes; standardised here, before fitting, where the
estimator needs scaled inputs) and written as <name>.p4.pkl, and for one
model of each family also as <name>.p2.pkl and <name>.joblib. <name>.json
holds the input rows (a sample of the training rows, perturbed rows and
rows beyond the data's range) with scikit-learn's predict, predict_proba
(when the estimator has it; for SVC only with probability=True) and
decision_function or transform. manifest.json lists every model.

Numbers are written with repr precision (json does), so the Go tests can
compare them within 1e-9.
"""

import json
import os
import pickle
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn import datasets
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import (ElasticNet, ElasticNetCV, Lasso, LassoCV, LogisticRegression, LogisticRegressionCV,
                                  Ridge, RidgeCV, RidgeClassifier,
                                  SGDClassifier, SGDRegressor)
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR

warnings.filterwarnings("ignore")

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "sklearn", "more")


def standard(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def data(name, scale=True):
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "bc": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes}[name]
    d = loader()
    X = d.data.astype(np.float64)
    if scale:
        X = standard(X)
    return X, d.target, d


def rows(X, n=None, seed=0):
    """A sample of the training rows, perturbed rows and extremes."""
    n = n or (30 if X.shape[1] <= 13 else 14)
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    base = X[idx]
    noisy = base[:8] + rng.normal(scale=X.std(axis=0) * 0.3, size=base[:8].shape)
    lo = X.min(axis=0, keepdims=True) - 1
    hi = X.max(axis=0, keepdims=True) + 1
    return np.vstack([base, noisy, lo, hi])


def held_out(X, n=None, seed=0):
    """Perturbed rows only: no row equals a training row (k-nearest
    neighbours with distance weights divide by the distance)."""
    n = n or (30 if X.shape[1] <= 13 else 14)
    rng = np.random.RandomState(seed)
    idx = rng.choice(len(X), size=min(n, len(X)), replace=False)
    return X[idx] + rng.normal(scale=X.std(axis=0) * 0.2, size=X[idx].shape)


def models():
    """(name, model_type, estimator, X, y, inputs, family, extra)"""
    out = []

    def add(name, mt, est, X, y, inputs=None, family=None, **kw):
        out.append(dict(name=name, model_type=mt, est=est, X=X, y=y,
                        inputs=rows(X) if inputs is None else inputs,
                        family=family, **kw))

    iris_X, iris_y, iris = data("iris")
    wine_X, wine_y, _ = data("wine")
    bc_X, bc_y, _ = data("bc")
    db_X, db_y, _ = data("diabetes")
    iris_names = np.array(iris.target_names)[iris_y]

    # Logistic regression: predict_proba of every kind of fit.
    add("logreg_binary", "logistic_regression", LogisticRegression(max_iter=500), bc_X, bc_y, family="logistic")
    add("logreg_multinomial", "logistic_regression", LogisticRegression(max_iter=500), wine_X, wine_y)
    add("logreg_ovr", "logistic_regression", LogisticRegression(multi_class="ovr", max_iter=500), iris_X, iris_y)
    add("logreg_liblinear", "logistic_regression", LogisticRegression(solver="liblinear"), wine_X, wine_y)
    add("logreg_liblinear_binary", "logistic_regression", LogisticRegression(solver="liblinear"), bc_X, bc_y)

    # Ridge: one target; many targets are refused.
    add("ridge_single_col", "linear_regression", Ridge(alpha=0.5), db_X, db_y.reshape(-1, 1).astype(float), family="linear")
    add("ridge_multi", "linear_regression", Ridge(), db_X, np.c_[db_y, db_y * 2.0], refused=True)
    add("lasso", "linear_regression", Lasso(alpha=0.3), db_X, db_y)
    add("elasticnet", "linear_regression", ElasticNet(alpha=0.2, l1_ratio=0.3), db_X, db_y)
    add("ridgecv", "linear_regression", RidgeCV(alphas=[0.1, 1.0, 10.0]), db_X, db_y)
    add("lassocv", "linear_regression", LassoCV(cv=3, random_state=0), db_X, db_y)
    add("elasticnetcv", "linear_regression", ElasticNetCV(cv=3, l1_ratio=[0.2, 0.8], random_state=0), db_X, db_y)
    add("logregcv", "logistic_regression", LogisticRegressionCV(cv=3, max_iter=500), wine_X, wine_y)

    add("ridge_clf_binary", "ridge_classifier", RidgeClassifier(alpha=2.0), bc_X, bc_y, family="ridge_classifier")
    add("ridge_clf_multi", "ridge_classifier", RidgeClassifier(), wine_X, wine_y)
    add("ridge_clf_strings", "ridge_classifier", RidgeClassifier(), iris_X, iris_names)

    add("sgd_hinge", "sgd_classifier", SGDClassifier(random_state=0), iris_X, iris_y, family="sgd")
    add("sgd_log_binary", "sgd_classifier", SGDClassifier(loss="log_loss", random_state=0), bc_X, bc_y)
    add("sgd_log_multi", "sgd_classifier", SGDClassifier(loss="log_loss", random_state=0), wine_X, wine_y)
    add("sgd_mhuber_binary", "sgd_classifier", SGDClassifier(loss="modified_huber", random_state=0), bc_X, bc_y)
    add("sgd_mhuber_multi", "sgd_classifier", SGDClassifier(loss="modified_huber", random_state=1), iris_X, iris_y)
    add("sgd_reg", "sgd_regressor", SGDRegressor(random_state=0), db_X, db_y)

    add("linear_svc_binary", "linear_svc", LinearSVC(random_state=0, max_iter=5000), bc_X, bc_y, family="linear_svm")
    add("linear_svc_multi", "linear_svc", LinearSVC(random_state=0, max_iter=5000), wine_X, wine_y)
    add("linear_svr", "linear_svr", LinearSVR(random_state=0, max_iter=10000), db_X, db_y)
    # Without an intercept liblinear's intercept_ is the scalar 0.0.
    add("linear_svc_noint", "linear_svc", LinearSVC(fit_intercept=False, random_state=0, max_iter=5000), wine_X, wine_y)
    add("linear_svr_noint", "linear_svr", LinearSVR(fit_intercept=False, random_state=0, max_iter=10000), db_X, db_y)

    for k in ["linear", "rbf", "poly", "sigmoid"]:
        add("svc_" + k, "svc", SVC(kernel=k, degree=3, coef0=0.5 if k != "rbf" else 0.0), iris_X, iris_y,
            family="svm" if k == "rbf" else None)
        add("svr_" + k, "svr", SVR(kernel=k, C=50.0, coef0=0.5 if k != "rbf" else 0.0, gamma=0.05 if k == "sigmoid" else "scale"), db_X[:120], db_y[:120])
    add("svc_binary", "svc", SVC(kernel="rbf", gamma=0.02), bc_X, bc_y)
    add("svc_ovo_shape", "svc", SVC(kernel="poly", degree=2, gamma=0.3, decision_function_shape="ovo"), wine_X, wine_y)
    add("svc_break_ties", "svc", SVC(kernel="rbf", C=0.3, break_ties=True), wine_X, wine_y)
    add("svc_proba_multi", "svc", SVC(kernel="rbf", probability=True, random_state=0), wine_X, wine_y)
    add("svc_proba_binary", "svc", SVC(kernel="linear", probability=True, random_state=0), bc_X, bc_y)
    add("svc_proba_strings", "svc", SVC(kernel="rbf", probability=True, random_state=0), iris_X, iris_names)
    add("nusvc", "nu_svc", NuSVC(nu=0.3), iris_X, iris_y)
    add("nusvr", "nu_svr", NuSVR(C=20.0), db_X[:120], db_y[:120])

    add("knn_clf", "k_neighbors_classifier", KNeighborsClassifier(n_neighbors=5), iris_X, iris_y, family="neighbors")
    add("knn_clf_brute_distance", "k_neighbors_classifier",
        KNeighborsClassifier(n_neighbors=7, weights="distance", p=1, algorithm="brute"), bc_X[:120], bc_y[:120],
        inputs=held_out(bc_X))
    add("knn_clf_chebyshev", "k_neighbors_classifier",
        KNeighborsClassifier(n_neighbors=4, metric="chebyshev"), wine_X, wine_y)
    add("knn_clf_ball_tree", "k_neighbors_classifier",
        KNeighborsClassifier(n_neighbors=6, weights="distance", algorithm="ball_tree"), iris_X, iris_y,
        inputs=held_out(iris_X))
    add("knn_reg", "k_neighbors_regressor", KNeighborsRegressor(n_neighbors=5), db_X[:200], db_y[:200])
    add("knn_reg_distance_p3", "k_neighbors_regressor",
        KNeighborsRegressor(n_neighbors=3, weights="distance", p=3), db_X[:200], db_y[:200], inputs=held_out(db_X))
    add("knn_reg_manhattan_brute", "k_neighbors_regressor",
        KNeighborsRegressor(n_neighbors=4, metric="manhattan", algorithm="brute"), db_X[:200], db_y[:200])

    add("gaussian_nb", "gaussian_nb", GaussianNB(), wine_X, wine_y, family="naive_bayes")
    add("gaussian_nb_binary", "gaussian_nb", GaussianNB(var_smoothing=1e-3), bc_X, bc_y)
    raw_wine, _, _ = data("wine", scale=False)
    add("multinomial_nb", "multinomial_nb", MultinomialNB(alpha=0.5), raw_wine, wine_y)
    add("bernoulli_nb", "bernoulli_nb", BernoulliNB(), bc_X, bc_y)
    add("bernoulli_nb_multi", "bernoulli_nb", BernoulliNB(binarize=0.5, alpha=2.0), wine_X, wine_y)

    add("mlp_clf", "mlp_classifier", MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=300, random_state=0), iris_X, iris_y, family="mlp")
    add("mlp_clf_binary_tanh", "mlp_classifier",
        MLPClassifier(hidden_layer_sizes=(10,), activation="tanh", max_iter=200, random_state=0), bc_X, bc_y)
    add("mlp_clf_logistic", "mlp_classifier",
        MLPClassifier(hidden_layer_sizes=(7,), activation="logistic", max_iter=300, random_state=0), wine_X, wine_y)
    add("mlp_reg", "mlp_regressor", MLPRegressor(hidden_layer_sizes=(12,), max_iter=300, random_state=0), db_X, db_y)
    add("mlp_reg_identity", "mlp_regressor",
        MLPRegressor(hidden_layer_sizes=(5,), activation="identity", max_iter=300, random_state=0), db_X, db_y)

    add("kmeans", "k_means", KMeans(n_clusters=4, n_init=3, random_state=0), wine_X, None, family="kmeans")
    add("minibatch_kmeans", "mini_batch_k_means", MiniBatchKMeans(n_clusters=3, n_init=3, random_state=0), iris_X, None)

    add("truncated_svd", "truncated_svd", TruncatedSVD(n_components=5, random_state=0), bc_X, None, family="truncated_svd")

    # Fitted on DataFrames: feature_names_in_ exists.
    cols = [c.replace(" ", "_").replace("(cm)", "cm").strip("_") for c in iris.feature_names]
    add("svc_dataframe", "svc", SVC(kernel="rbf", probability=True, random_state=0),
        pd.DataFrame(iris_X, columns=cols), iris_y, inputs=rows(iris_X), dataframe=True)
    add("knn_dataframe", "k_neighbors_classifier", KNeighborsClassifier(n_neighbors=3),
        pd.DataFrame(iris_X, columns=cols), iris_y, inputs=rows(iris_X), dataframe=True)
    return out


def jsonable(a):
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return a.astype(np.int64).tolist()
    if a.dtype.kind == "f":
        return a.astype(np.float64).tolist()
    return [str(v) for v in a.tolist()]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for m in models():
        est, name = m["est"], m["name"]
        if m["y"] is None:
            est.fit(m["X"])
        else:
            est.fit(m["X"], m["y"])
        inputs = m["inputs"]
        X = pd.DataFrame(inputs, columns=m["X"].columns) if m.get("dataframe") else inputs
        meta = {"name": name, "model_type": m["model_type"], "class": type(est).__name__,
                "module": type(est).__module__, "n_features": int(est.n_features_in_),
                "inputs": inputs.tolist()}
        if m.get("refused"):
            meta["refused"] = True
        else:
            if hasattr(est, "predict"):
                meta["predict"] = jsonable(est.predict(X))
            if hasattr(est, "classes_"):
                meta["classes"] = jsonable(est.classes_)
            if hasattr(est, "predict_proba"):
                try:
                    meta["proba"] = est.predict_proba(X).tolist()
                except AttributeError:
                    pass  # SVC without probability, SGD with hinge loss
            if hasattr(est, "transform") and not hasattr(est, "predict"):
                meta["transform"] = est.transform(X).tolist()
            if hasattr(est, "decision_function"):
                meta["decision"] = np.asarray(est.decision_function(X)).tolist()
            if m.get("dataframe"):
                meta["feature_names"] = list(est.feature_names_in_)
        files = [name + ".p4.pkl"]
        with open(os.path.join(OUT, files[0]), "wb") as f:
            pickle.dump(est, f, protocol=4)
        if m["family"]:
            files.append(name + ".p2.pkl")
            with open(os.path.join(OUT, files[-1]), "wb") as f:
                pickle.dump(est, f, protocol=2)
            files.append(name + ".joblib")
            joblib.dump(est, os.path.join(OUT, files[-1]))
        meta["files"] = files
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(meta, f)
        manifest.append({"name": name, "model_type": m["model_type"], "files": files})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__,
                   "models": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
