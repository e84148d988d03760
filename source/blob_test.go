package source

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// isolateClouds keeps the host's cloud configuration and credentials out
// of a test, and any credential lookup off the network.
func isolateClouds(t *testing.T) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "missing")
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":                 missing,
		"AWS_SHARED_CREDENTIALS_FILE":     missing,
		"AWS_PROFILE":                     "",
		"AWS_ACCESS_KEY_ID":               "",
		"AWS_SECRET_ACCESS_KEY":           "",
		"AWS_SESSION_TOKEN":               "",
		"AWS_REGION":                      "",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"GOOGLE_APPLICATION_CREDENTIALS":  missing,
		"CLOUDSDK_CONFIG":                 missing,
		"STORAGE_EMULATOR_HOST":           "",
		"AZURE_STORAGE_ACCOUNT":           "",
		"AZURE_STORAGE_KEY":               "",
		"AZURE_STORAGE_SAS_TOKEN":         "",
		"AZURE_STORAGE_CONNECTION_STRING": "",
		"AZURE_STORAGE_DOMAIN":            "",
		"AZURE_STORAGE_PROTOCOL":          "",
		"AZURE_STORAGE_IS_LOCAL_EMULATOR": "",
	} {
		t.Setenv(k, v)
	}
}

func TestS3Fetch(t *testing.T) {
	isolateClouds(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	setNetTimeouts(t, 5*time.Second)

	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	if err := backend.CreateBucket("models"); err != nil {
		t.Fatal(err)
	}
	if _, err := backend.PutObject("models", "iris/model.onnx", map[string]string{}, bytes.NewReader(modelBytes), int64(len(modelBytes)), nil); err != nil {
		t.Fatal(err)
	}
	opts := "?endpoint=" + srv.URL + "&region=us-east-1&use_path_style=true&disable_https=true"

	uri := "s3://models/iris/model.onnx" + opts
	art, err := Resolve(context.Background(), uri, "")
	if err != nil {
		t.Fatal(err)
	}
	if art.Location() != uri {
		t.Fatalf("Location %q, want the URI %q", art.Location(), uri)
	}
	p, _, err := fetchURI(t, context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, modelBytes) {
		t.Fatal("fetched bytes differ from the object's")
	}

	for _, c := range []struct{ uri, want string }{
		{"s3://models/iris/missing.onnx" + opts, `no such object "iris/missing.onnx" in bucket "models"`},
		{"s3://nobucket/iris/model.onnx" + opts, `no such bucket "nobucket"`},
	} {
		_, cache, err := fetchURI(t, context.Background(), c.uri)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.uri) || strings.Contains(err.Error(), "fake-secret-key") {
			t.Fatalf("%s: %v", c.uri, err)
		}
		if e := cacheEntries(t, cache); len(e) != 0 {
			t.Fatalf("a failed download left %v in the cache", e)
		}
	}
}

func TestS3Unreachable(t *testing.T) {
	isolateClouds(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	setNetTimeouts(t, 3*time.Second)
	port := freePort(t)
	uri := "s3://models/m.onnx?endpoint=http://127.0.0.1:" + port + "&region=us-east-1&use_path_style=true"
	start := time.Now()
	_, _, err := fetchURI(t, context.Background(), uri)
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable endpoint: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestBlobResolveErrors(t *testing.T) {
	for _, c := range []struct{ uri, want string }{
		{"s3://", "names no bucket"},
		{"s3://bucket", "names no object"},
		{"s3://bucket/dir/", "names no object"},
		{"gs:///key", "names no bucket"},
		{"azblob://container", "names no object"},
		{"s3://AKIA:secret@bucket/key", "take no credentials"},
	} {
		_, err := Resolve(context.Background(), c.uri, "")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret") {
			t.Fatalf("%s: %v", c.uri, err)
		}
	}
	art, err := Resolve(context.Background(), "gs://my-bucket/path/to/model.pkl", "")
	if err != nil {
		t.Fatal(err)
	}
	b := art.(*blobArtifact)
	if b.bucket != "my-bucket" || b.key != "path/to/model.pkl" || art.Location() != "gs://my-bucket/path/to/model.pkl" {
		t.Fatalf("parsed %+v", b)
	}
}

func TestGCSWithoutCredentials(t *testing.T) {
	isolateClouds(t)
	setNetTimeouts(t, 3*time.Second)
	start := time.Now()
	_, cache, err := fetchURI(t, context.Background(), "gs://my-bucket/model.onnx")
	if err == nil || !strings.Contains(err.Error(), `read "gs://my-bucket/model.onnx": no Google Cloud credentials`) ||
		!strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("gs:// without credentials: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a failed download left %v in the cache", e)
	}
}

func TestAzureWithoutAccount(t *testing.T) {
	isolateClouds(t)
	setNetTimeouts(t, 3*time.Second)
	_, _, err := fetchURI(t, context.Background(), "azblob://models/model.onnx")
	if err == nil || !strings.Contains(err.Error(), "no Azure storage account") {
		t.Fatalf("azblob:// without an account: %v", err)
	}
}

// Azurite's well-known development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	azuriteVersion = "3.37.0"
)

// startAzurite runs Azurite's blob service on a free loopback port and
// returns its host:port. Azurite is installed with npm into the
// repository's git-ignored .cache/azurite the first time (about a
// minute); the test is skipped when node or npm is missing or the
// install fails.
func startAzurite(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the azblob:// test needs Azurite (npm package azurite); apt-get install nodejs npm")
	}
	dir, err := filepath.Abs(filepath.Join("..", ".cache", "azurite"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(bin); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skip("npm is not installed: the azblob:// test needs Azurite (npm package azurite); apt-get install npm")
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), ".azurite-*")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		t.Logf("installing azurite@%s into %s", azuriteVersion, dir)
		cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error", "azurite@"+azuriteVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("could not install Azurite with npm (%v): %s", err, out)
		}
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(bin); serr != nil { // not a concurrent install
				t.Fatal(err)
			}
		}
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", port,
		"--location", t.TempDir(), "--skipApiVersionCheck", "--loose")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		var log strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "successfully listens") {
				ready <- ""
				for sc.Scan() {
				}
				return
			}
		}
		ready <- log.String()
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			t.Fatalf("Azurite exited: %s", msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Azurite did not start within 30s")
	}
	return "127.0.0.1:" + port
}

func TestAzureFetch(t *testing.T) {
	isolateClouds(t)
	setNetTimeouts(t, 5*time.Second)
	start := time.Now()
	host := startAzurite(t)
	t.Logf("Azurite started in %v", time.Since(start))
	t.Setenv("AZURE_STORAGE_ACCOUNT", azuriteAccount)
	t.Setenv("AZURE_STORAGE_KEY", azuriteKey)

	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cc, err := container.NewClientWithSharedKeyCredential("http://"+host+"/"+azuriteAccount+"/models", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.NewBlockBlobClient("sk/model.pkl").UploadBuffer(ctx, modelBytes, nil); err != nil {
		t.Fatal(err)
	}

	opts := "?protocol=http&domain=" + host + "&localemu=true"
	p, _, err := fetchURI(t, ctx, "azblob://models/sk/model.pkl"+opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, modelBytes) {
		t.Fatal("fetched bytes differ from the blob's")
	}
	for _, c := range []struct{ uri, want string }{
		{"azblob://models/sk/missing.pkl" + opts, `no such object "sk/missing.pkl" in container "models"`},
		{"azblob://nocontainer/sk/model.pkl" + opts, `no such container "nocontainer"`},
	} {
		_, cache, err := fetchURI(t, ctx, c.uri)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), azuriteKey) {
			t.Fatalf("%s: %v", c.uri, err)
		}
		if e := cacheEntries(t, cache); len(e) != 0 {
			t.Fatalf("a failed download left %v in the cache", e)
		}
	}
	// A body cut off half-way (a proxy in front of Azurite sends half of
	// what Content-Length promised): the download fails and leaves
	// nothing in the cache.
	target, _ := url.Parse("http://" + host)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && resp.StatusCode/100 == 2 && resp.ContentLength > 1 {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.LimitReader(resp.Body, resp.ContentLength/2), resp.Body}
		}
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	cutSrv := httptest.NewServer(proxy)
	defer cutSrv.Close()
	cutHost := strings.TrimPrefix(cutSrv.URL, "http://")
	_, cache, err := fetchURI(t, ctx, "azblob://models/sk/model.pkl?protocol=http&domain="+cutHost+"&localemu=true")
	if err == nil {
		t.Fatal("a download cut off half-way did not fail")
	}
	if e := cacheEntries(t, cache); len(e) != 0 {
		t.Fatalf("a cut download left %v in the cache", e)
	}
	t.Logf("cut off: %v", err)

	// A wrong key: permission denied, and the key is not shown.
	t.Setenv("AZURE_STORAGE_KEY", "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=")
	_, _, err = fetchURI(t, ctx, "azblob://models/sk/model.pkl"+opts)
	if err == nil || strings.Contains(err.Error(), "d3Jvbmcta2V5") || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("wrong key: %v", err)
	}
	t.Logf("wrong key: %v", err)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
