-- augur's quick start: models registered with CREATE MODEL, used in SQL.
-- Run it with: bash scripts/example.sh   (or: bin/augur -f examples/quickstart.sql)

-- Plain DuckDB SQL: load a table from CSV.
CREATE TABLE flowers AS SELECT * FROM read_csv('examples/data/iris.csv');

-- A scikit-learn random forest, read from its pickle file by native Go code
-- (no Python, and nothing in the file is executed). Its classes are the
-- species names, so it returns strings.
CREATE MODEL iris
  FLAVOR sklearn
  MODEL_TYPE random_forest_classification
  RETURNS string
  USING 'examples/models/iris_forest.pkl';

-- FLAVOR and MODEL_TYPE may also follow from the file itself.
CREATE MODEL diabetes USING 'examples/models/diabetes_linear.pkl';

SHOW MODELS;
DESCRIBE MODEL iris;

-- ML_PREDICT works wherever an expression does.
SELECT id, species, ML_PREDICT(iris, [sepal_length, sepal_width, petal_length, petal_width]) AS predicted
FROM flowers
WHERE id % 25 = 1
ORDER BY id;

SELECT species,
       count(*) AS flowers,
       count(*) FILTER (WHERE ML_PREDICT(iris, sepal_length, sepal_width, petal_length, petal_width) = species) AS predicted_right
FROM flowers
GROUP BY species
ORDER BY species;

SELECT round(ML_PREDICT(diabetes, [0.03, 0.05, 0.06, 0.02]), 2) AS progression;

-- Neural networks run in-process on ONNX Runtime (fetched by scripts/onnx_setup.sh).
-- A small CNN trained on scikit-learn's digits, exported from PyTorch to ONNX:
-- image files in, a typed label out. The file names end in the true digit.
CREATE MODEL digits MODEL_TYPE image_classifier USING 'examples/models/digits.onnx';

-- What the network takes and returns (DESCRIBE MODEL digits shows the same, with all columns).
SELECT name, model_type, returns, inputs, outputs FROM augur_models() WHERE name = 'digits';

SELECT regexp_extract(file, '_(\d)\.png$', 1) AS truth,
       ML_PREDICT(digits, image(file)).label AS predicted,
       round(ML_PREDICT(digits, image(file)).score, 3) AS score
FROM glob('examples/images/*.png')
ORDER BY file;

-- A detector with torchvision's output layout (a tiny stand-in graph, not a
-- trained detector): its result is a typed list of boxes, one row per
-- detection with unnest, and the box functions work on it.
CREATE MODEL detector MODEL_TYPE fasterrcnn OPTIONS (min_score = 0) USING 'examples/models/tinydet.onnx';

SELECT typeof(ML_PREDICT(detector, image('examples/images/digit_0007_7.png'))) AS result_type;

SELECT d.label, round(d.score, 2) AS score, d.box, round(area(d.box)) AS area
FROM (SELECT unnest(ML_PREDICT(detector, image('examples/images/digit_0007_7.png'))) AS d)
ORDER BY score DESC;

-- crop() cuts each detection out of its image, so a classifier can look at
-- what the detector found: detector and classifier chained in one query.
SELECT d.label AS detected, d.box, ML_PREDICT(digits, crop(image, d.box)).label AS classified
FROM (SELECT image, unnest(ML_PREDICT(detector, image)) AS d
      FROM (SELECT image('examples/images/digit_0007_7.png') AS image))
ORDER BY d.score DESC;
