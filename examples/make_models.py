"""Regenerates the example's model files and data with scikit-learn.

The example itself needs no Python: its outputs are committed. Run with
Debian's packages (apt-get install python3-sklearn):

    /usr/bin/python3 examples/make_models.py
"""
import csv
import os
import pickle

import numpy as np
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression

here = os.path.dirname(os.path.abspath(__file__))
iris = load_iris()
names = np.array(iris.target_names)[iris.target]  # class values are strings

forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
forest.fit(iris.data, names)
with open(os.path.join(here, "models", "iris_forest.pkl"), "wb") as f:
    pickle.dump(forest, f, protocol=4)

with open(os.path.join(here, "data", "iris.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
    for i, (row, name) in enumerate(zip(iris.data, names)):
        w.writerow([i + 1, *row.tolist(), name])

diabetes = load_diabetes()
reg = LinearRegression().fit(diabetes.data[:, :4], diabetes.target)
with open(os.path.join(here, "models", "diabetes_linear.pkl"), "wb") as f:
    pickle.dump(reg, f, protocol=5)
print("wrote", os.listdir(os.path.join(here, "models")))
