"""Models saved the way a new user saves them, for newuser_tabular_test.go.

Run with Debian's python3 (scikit-learn 1.2, xgboost 1.7, pandas):

    /usr/bin/python3 scripts/newuser_fixtures.py

It writes testdata/newuser/:
  pipe.joblib    Pipeline(ColumnTransformer(OneHotEncoder on the text
                 column 'shade', StandardScaler on the numbers),
                 LogisticRegression) fitted on a pandas DataFrame of iris
                 with a text column
  rows.csv       the rows the tests predict (iris plus 'shade')
  xgb.json, xgb.ubj   an XGBClassifier on breast_cancer, save_model
  cancer.csv     a few breast_cancer rows with their label
  gbr.joblib.gz  a GradientBoostingRegressor on diabetes, joblib.dump
  diabetes.csv   a few diabetes rows with their target
  expected.json  scikit-learn's and XGBoost's predictions and metrics
"""
import json
import os

import joblib
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn import datasets, metrics
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

out = os.path.join(os.path.dirname(__file__), "..", "testdata", "newuser")
os.makedirs(out, exist_ok=True)
exp = {}

# A DataFrame-fitted pipeline with a text column.
iris = datasets.load_iris(as_frame=True)
X = iris.data.copy()
X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
rng = np.random.RandomState(0)
X["shade"] = rng.choice(["dark", "light", "pale"], size=len(X))
y = iris.target_names[iris.target]
pipe = Pipeline([
    ("prep", ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["shade"]),
        ("num", StandardScaler(), ["sepal_length", "sepal_width", "petal_length", "petal_width"]),
    ])),
    ("clf", LogisticRegression(max_iter=500)),
])
pipe.fit(X, y)
joblib.dump(pipe, os.path.join(out, "pipe.joblib"))
rows = X.iloc[::10].copy()
rows["species"] = y[::10]
rows.to_csv(os.path.join(out, "rows.csv"), index=False)
feats = rows.drop(columns=["species"])
exp["pipe"] = {
    "classes": list(pipe.classes_),
    "pred": list(pipe.predict(feats)),
    "proba": pipe.predict_proba(feats).tolist(),
    "accuracy": metrics.accuracy_score(rows["species"], pipe.predict(feats)),
    "log_loss": metrics.log_loss(rows["species"], pipe.predict_proba(feats), labels=pipe.classes_),
}

# XGBoost's scikit-learn wrapper, saved with save_model.
cancer = datasets.load_breast_cancer()
Xc, yc = cancer.data, cancer.target
clf = xgb.XGBClassifier(n_estimators=4, max_depth=2, tree_method="exact")
clf.fit(Xc, yc)
clf.save_model(os.path.join(out, "xgb.json"))
clf.save_model(os.path.join(out, "xgb.ubj"))
sub = np.arange(0, len(Xc), 40)
cols = ["f%d" % i for i in range(Xc.shape[1])]
cdf = pd.DataFrame(Xc[sub], columns=cols)
cdf["label"] = yc[sub]
cdf.to_csv(os.path.join(out, "cancer.csv"), index=False)
exp["xgb"] = {
    "pred": clf.predict(Xc[sub]).tolist(),
    "proba": clf.predict_proba(Xc[sub]).tolist(),
}

# A GradientBoostingRegressor, joblib.dump'ed to a .gz name.
diab = datasets.load_diabetes(as_frame=True)
gbr = GradientBoostingRegressor(n_estimators=5, max_depth=2, random_state=0)
gbr.fit(diab.data, diab.target)
joblib.dump(gbr, os.path.join(out, "gbr.joblib.gz"))
dsub = diab.data.iloc[::40].copy()
pred = gbr.predict(dsub)
dsub["target"] = diab.target.iloc[::40].values
dsub.to_csv(os.path.join(out, "diabetes.csv"), index=False)
exp["gbr"] = {
    "features": list(diab.data.columns),
    "pred": pred.tolist(),
    "mae": metrics.mean_absolute_error(dsub["target"], pred),
    "r2": metrics.r2_score(dsub["target"], pred),
}

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(exp, f, indent=1)
