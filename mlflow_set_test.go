package augur_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestMLflowSetTrackingURI: SET mlflow_tracking_uri names the tracking
// server for the session's mlflow: URIs, over MLFLOW_TRACKING_URI; RESET
// forgets it; other sessions do not see it.
func TestMLflowSetTrackingURI(t *testing.T) {
	t.Setenv("AUGUR_CACHE_DIR", t.TempDir())
	srv := &mlflowServer{files: map[string]string{}}
	srv.files["1/r3/artifacts/model/MLmodel"] = "artifact_path: model\nflavors:\n  test:\n    data: model.testmodel\nrun_id: r3\n"
	srv.files["1/r3/artifacts/model/model.testmodel"] = `{"scale": 3}`
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t.Setenv("MLFLOW_TRACKING_URI", "")
	t.Setenv("MLFLOW_TRACKING_TOKEN", "")
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) error { _, err := conn.ExecContext(ctx, q); return err }
	if err := exec(`CREATE MODEL m USING 'mlflow:/iris'`); err == nil || !strings.Contains(err.Error(), "SET mlflow_tracking_uri") {
		t.Fatalf("without a tracking server: %v", err)
	}
	if err := exec(`SET mlflow_tracking_uri = '` + hs.URL + `'`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`CREATE MODEL m USING 'mlflow:/iris'`); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRowContext(ctx, `SELECT ML_PREDICT(m, 2)::VARCHAR`).Scan(&got); err != nil || got != "6.0" {
		t.Fatalf("ML_PREDICT = %q, %v", got, err)
	}
	if err := exec(`RESET mlflow_tracking_uri`); err != nil {
		t.Fatal(err)
	}
	if err := exec(`CREATE MODEL m2 USING 'mlflow:/iris'`); err == nil {
		t.Error("RESET did not forget the tracking server")
	}
	// DuckDB's own settings still work
	if err := exec(`SET threads = 2`); err != nil {
		t.Error(err)
	}
}
