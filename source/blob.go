package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"gocloud.dev/blob"
	"gocloud.dev/blob/azureblob"
	"gocloud.dev/blob/gcsblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
	"gocloud.dev/gcp"

	"github.com/augurdb/augur/internal/netwatch"
	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/limits"
	"github.com/augurdb/augur/model"
)

func init() {
	for _, s := range []string{"s3", "gs", "azblob"} {
		Schemes.Register(s, blobScheme{})
	}
}

// blobScheme reads objects from object stores through gocloud.dev/blob:
// s3://bucket/key, gs://bucket/key and azblob://container/key, with the
// drivers' URL options (s3: region, endpoint, use_path_style,
// disable_https, profile, anonymous, ...; gs: anonymous, access_id,
// universe_domain, ...; azblob: domain, protocol, localemu,
// storage_account, cdn). Credentials come from each cloud's usual
// environment variables and configuration files, read at each Open; a
// URI carries none (user info is refused), so the URI is shown and
// stored as written. Resolve only parses the URI: no network.
type blobScheme struct{}

func (blobScheme) Resolve(_ context.Context, uri, _ string) (model.Artifact, error) {
	shown := untrusted.Quote(redactURI(uri))
	u, err := url.Parse(uri)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("USING %s is not a valid URI: %v", shown, err)
	}
	scheme := strings.ToLower(u.Scheme)
	what := map[string]string{"s3": "bucket", "gs": "bucket", "azblob": "container"}[scheme]
	if u.User != nil {
		return nil, fmt.Errorf("USING %s: %s:// URIs take no credentials; they come from the environment (see the README)", shown, scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("USING %s names no %s; write %s://%s/path/to/model.onnx", shown, what, scheme, what)
	}
	key := strings.TrimPrefix(u.Path, "/")
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, fmt.Errorf("USING %s names no object in %s %s; write %s://%s/path/to/model.onnx", shown, what, untrusted.Quote(u.Host), scheme, u.Host)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("USING %s: an object URI takes no #fragment", shown)
	}
	bucketURL := url.URL{Scheme: scheme, Host: u.Host, RawQuery: u.RawQuery}
	return &blobArtifact{uri: uri, scheme: scheme, bucketURL: &bucketURL, bucket: u.Host, key: key}, nil
}

// blobArtifact is an object in a bucket (an Azure container).
type blobArtifact struct {
	uri       string // as written: it holds no secrets
	scheme    string
	bucketURL *url.URL // scheme, bucket and options, no key
	bucket    string
	key       string
}

func (a *blobArtifact) Location() string          { return a.uri }
func (a *blobArtifact) LocalPath() (string, bool) { return "", false }
func (a *blobArtifact) Remote()                   {}

// Open opens the bucket and reads the object. Opening the bucket (the
// credential lookup included) and the first response must come within
// limits.ConnectTimeout plus limits.HeaderTimeout; after that the read
// fails when no byte comes for limits.IdleTimeout. Cancelling ctx ends
// it.
func (a *blobArtifact) Open(ctx context.Context) (io.ReadCloser, error) {
	prefix := "read " + untrusted.Quote(a.uri)
	ctx, cancel := context.WithCancelCause(ctx)
	dog := netwatch.New(cancel)
	dog.Arm(netwatch.Response())
	b, err := a.openBucket(ctx)
	if err != nil {
		dog.Stop()
		if ctxErr := watchdogError(ctx); ctxErr != nil {
			err = ctxErr
		}
		cancel(nil)
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	r, err := b.NewReader(ctx, a.key, nil)
	if err != nil {
		err = a.readError(ctx, b, err)
		b.Close()
		dog.Stop()
		cancel(nil)
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	if size := r.Size(); size > limits.ModelBytes.Get() {
		r.Close()
		b.Close()
		dog.Stop()
		cancel(nil)
		return nil, fmt.Errorf("%s: %w", prefix, limits.ModelBytes.Exceeded("the object", size))
	}
	idle := netwatch.Idle()
	dog.Arm(idle)
	return &watchedBody{
		r:    r,
		c:    closers{r, b},
		ctx:  ctx,
		dog:  dog,
		idle: idle,
		done: func() { cancel(nil) },
	}, nil
}

// closers closes each in turn and returns the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// watchdogError is the timeout or cancellation that ended ctx, if any.
func watchdogError(ctx context.Context) error {
	var t *netwatch.Timeout
	if cause := context.Cause(ctx); errors.As(cause, &t) {
		return t
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// openBucket opens the bucket with an opener made for this call, so that
// credentials are read from the environment each time (gocloud.dev's
// default openers keep the first lookup, failed or not, for the life of
// the process, and the GCS one prints warnings on standard output).
func (a *blobArtifact) openBucket(ctx context.Context) (*blob.Bucket, error) {
	switch a.scheme {
	case "s3":
		// aws-sdk-go-v2: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
		// AWS_SESSION_TOKEN, AWS_PROFILE, ~/.aws/config and credentials,
		// SSO, web identity, container and instance roles.
		u := *a.bucketURL
		q := u.Query()
		if q.Get("response_checksum_validation") == "" {
			// the whole download is hashed (sha256) by augur; validating
			// S3's own checksums only when a request asks for them keeps
			// the SDK from printing a warning for each object of an
			// S3-compatible store that sends none
			q.Set("response_checksum_validation", "when_required")
			u.RawQuery = q.Encode()
		}
		return (&s3blob.URLOpener{}).OpenBucketURL(ctx, &u)
	case "gs":
		o := &gcsblob.URLOpener{}
		anon, _ := strconv.ParseBool(a.bucketURL.Query().Get("anonymous"))
		switch {
		case anon || a.bucketURL.Query().Get("access_id") == "-":
			// gcsblob makes its own unauthenticated client.
		case os.Getenv("STORAGE_EMULATOR_HOST") != "":
			o.Client = gcp.NewAnonymousHTTPClient(gcp.DefaultTransport())
		default:
			// Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS,
			// gcloud's application_default_credentials.json, the GCE
			// metadata server.
			creds, err := gcp.DefaultCredentials(ctx)
			if err != nil {
				return nil, fmt.Errorf("no Google Cloud credentials (set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, run `gcloud auth application-default login`, or add ?anonymous=true for a public bucket): %s", untrusted.Clean(oneLine(err.Error())))
			}
			c, err := gcp.NewHTTPClient(gcp.DefaultTransport(), gcp.CredentialsTokenSource(creds))
			if err != nil {
				return nil, err
			}
			o.Client, o.TokenSource = c, gcp.CredentialsTokenSource(creds)
		}
		return o.OpenBucketURL(ctx, a.bucketURL)
	case "azblob":
		// AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or
		// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING, else
		// azidentity's DefaultAzureCredential (AZURE_CLIENT_ID and
		// friends, workload and managed identity, the az CLI).
		opts := azureblob.NewDefaultServiceURLOptions()
		if opts.SASToken != "" {
			// The token is part of the service URL: a URI may not send it
			// elsewhere (gocloud.dev's default opener refuses it too).
			for _, k := range []string{"domain", "protocol", "cdn", "localemu", "storage_account"} {
				if a.bucketURL.Query().Has(k) {
					return nil, fmt.Errorf("?%s= cannot change the storage endpoint while AZURE_STORAGE_SAS_TOKEN is set", k)
				}
			}
		}
		o := &azureblob.URLOpener{MakeClient: azureblob.NewDefaultClient, ServiceURLOptions: *opts}
		b, err := o.OpenBucketURL(ctx, a.bucketURL)
		if err != nil && strings.Contains(err.Error(), "AccountName is required") {
			return nil, errors.New("no Azure storage account: set AZURE_STORAGE_ACCOUNT (with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN) or AZURE_STORAGE_CONNECTION_STRING, or add ?storage_account=NAME")
		}
		return b, err
	}
	return nil, fmt.Errorf("unknown object store scheme %q", a.scheme)
}

// readError turns a failed NewReader into one line: a missing bucket or
// object, permission denied, an unreachable host, a timeout.
func (a *blobArtifact) readError(ctx context.Context, b *blob.Bucket, err error) error {
	if ctxErr := watchdogError(ctx); ctxErr != nil {
		return ctxErr
	}
	what := "bucket"
	if a.scheme == "azblob" {
		what = "container"
	}
	code := gcerrors.Code(err)
	if code == gcerrors.Unknown {
		// Azure's driver leaves 401 and 403 Unknown.
		var re *azcore.ResponseError
		if errors.As(err, &re) && (re.StatusCode == 401 || re.StatusCode == 403) {
			code = gcerrors.PermissionDenied
		}
	}
	switch code {
	case gcerrors.NotFound:
		if ok, aerr := b.IsAccessible(ctx); aerr == nil && !ok {
			return fmt.Errorf("no such %s %s", what, untrusted.Quote(a.bucket))
		}
		return fmt.Errorf("no such object %s in %s %s", untrusted.Quote(a.key), what, untrusted.Quote(a.bucket))
	case gcerrors.PermissionDenied:
		return fmt.Errorf("permission denied: the credentials from the environment are wrong or may not read this object (%s)", shortCause(err))
	case gcerrors.Canceled, gcerrors.DeadlineExceeded:
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return fmt.Errorf("cannot reach %s: no such host", untrusted.Quote(de.Name))
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		addr := ""
		if oe.Addr != nil {
			addr = oe.Addr.String()
		}
		return fmt.Errorf("cannot reach %s: %s", untrusted.Quote(addr), untrusted.Clean(oe.Err.Error()))
	}
	return errors.New(shortCause(err))
}

// shortCause is a driver's error text on one line, escaped and cut.
func shortCause(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return untrusted.Clean(s)
}
