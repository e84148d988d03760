// Package limits holds every limit that protects the process from hostile
// input: image pixels, encoded and decompressed bytes, pickle objects and
// memo entries, tensor elements, threads, and network timeouts. Each is defined here once, with its default and the
// environment variable that changes it, and the README's "Limits" table
// lists them all (a test keeps the two in step).
//
// Decoders check a size that a file claims against its limit before they
// allocate anything for it; limits are read once per use, so a test (or a
// program embedding augur) may change one with Set.
package limits

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind says how a limit's value is written.
type Kind int

const (
	Count    Kind = iota // a plain number
	Bytes                // a number of bytes; the env var takes 512MiB, 4GiB, ...
	Duration             // a time.Duration; the env var takes 30s, 2m, ...
)

// Limit is one bound. Its value is the environment variable's when that
// is set and valid, else the default.
type Limit struct {
	Name    string // what it bounds, as the README's table says it
	Env     string // the environment variable that changes it
	Kind    Kind
	Default int64 // nanoseconds for a Duration
	Doc     string

	mu       sync.Mutex
	loaded   bool
	value    int64
	envError error
}

var (
	mu  sync.Mutex
	all = map[string]*Limit{}
)

// define registers a limit; every limit of augur is defined in this file.
func define(name, env string, kind Kind, def int64, doc string) *Limit {
	l := &Limit{Name: name, Env: env, Kind: kind, Default: def, Doc: doc}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := all[env]; dup {
		panic("limits: " + env + " defined twice")
	}
	all[env] = l
	return l
}

// The limits. Defaults fit a machine of a few GB; raise them for larger
// models or images.
var (
	ImagePixels = define("image pixels", "AUGUR_MAX_IMAGE_PIXELS", Count, 178956970,
		"pixels of one decoded image (width x height, every frame and a GIF's logical screen); PIL's MAX_IMAGE_PIXELS doubled, where its DecompressionBombError starts")
	ImageBytes = define("encoded image bytes", "AUGUR_MAX_IMAGE_BYTES", Bytes, 256<<20,
		"bytes of one encoded image read from a file or URL")
	ModelBytes = define("model file bytes", "AUGUR_MAX_MODEL_BYTES", Bytes, 2<<30,
		"bytes of one model file (and of an ONNX model's external data, all files together)")
	DecompressedBytes = define("decompressed bytes", "AUGUR_MAX_DECOMPRESSED_BYTES", Bytes, 4<<30,
		"bytes of a pickle after joblib's decompression; decompression stops there, and the output is held once (peak: this plus the compressed file and at most a 64 MiB dictionary)")
	PickleObjects = define("pickle objects", "AUGUR_MAX_PICKLE_OBJECTS", Count, 1<<22,
		"values one pickle may create (containers, numbers, strings, objects, memo entries) and items it copies into new containers; a hostile pickle costs at most about 110 bytes each at the peak (0.45 GB measured at the default), while scikit-learn models make a few thousand (a 1000-tree forest about 50,000)")
	PickleMemo = define("pickle memo entries", "AUGUR_MAX_PICKLE_MEMO", Count, 1<<21,
		"entries of a pickle's memo (MEMOIZE, PUT), which count as objects too; a hostile pickle costs about 70 bytes each at the peak (0.15 GB measured at the default), while scikit-learn models use a few hundred")
	TensorElements = define("tensor elements", "AUGUR_MAX_TENSOR_ELEMENTS", Count, 1<<28,
		"elements of one tensor augur allocates for a batch (1 GiB of float32); a model whose fixed input shape exceeds it is refused at CREATE MODEL")
	Threads = define("threads", "AUGUR_MAX_THREADS", Count, 256,
		"OPTIONS (threads = N) of a model; larger values are refused")
	ConnectTimeout = define("network connect timeout", "AUGUR_CONNECT_TIMEOUT", Duration, int64(10*time.Second),
		"time to connect (TCP and TLS) to a server")
	HeaderTimeout = define("network response timeout", "AUGUR_RESPONSE_TIMEOUT", Duration, int64(30*time.Second),
		"time from connecting to the response's headers")
	IdleTimeout = define("network idle timeout", "AUGUR_IDLE_TIMEOUT", Duration, int64(30*time.Second),
		"time a download may go without receiving a byte; a whole download must also finish within the connect and response timeouts plus four times this")
)

// Get returns the limit's value.
func (l *Limit) Get() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load()
	return l.value
}

// Int is Get as an int (limits are far below 2^63 on 64-bit machines).
func (l *Limit) Int() int { return int(l.Get()) }

// Duration is Get as a time.Duration.
func (l *Limit) Duration() time.Duration { return time.Duration(l.Get()) }

// Set changes the value for this process and returns a function that
// restores the previous one (for tests and for programs embedding augur).
func (l *Limit) Set(v int64) (restore func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load()
	old := l.value
	l.value = v
	return func() {
		l.mu.Lock()
		l.value = old
		l.mu.Unlock()
	}
}

func (l *Limit) load() {
	if l.loaded {
		return
	}
	l.loaded = true
	l.value = l.Default
	s, ok := os.LookupEnv(l.Env)
	if !ok || strings.TrimSpace(s) == "" {
		return
	}
	v, err := Parse(l.Kind, s)
	if err != nil {
		l.envError = fmt.Errorf("%s=%q: %v", l.Env, s, err)
		return
	}
	l.value = v
}

// Exceeded is the error for a size over a limit: what was too large, by
// how much, and the environment variable that raises the limit.
func (l *Limit) Exceeded(what string, n int64) error {
	return &ExceededError{What: what, N: n, Limit: l}
}

// Check returns l.Exceeded(what, n) when n is over the limit.
func (l *Limit) Check(what string, n int64) error {
	if n > l.Get() || n < 0 {
		return l.Exceeded(what, n)
	}
	return nil
}

// ExceededError reports a size over a limit.
type ExceededError struct {
	What  string
	N     int64 // -1 when unknown ("more than")
	Limit *Limit
}

func (e *ExceededError) Error() string {
	v := e.Limit.Get()
	if e.N < 0 {
		return fmt.Sprintf("%s exceeds the limit of %s %s (set %s to raise it)", e.What, Format(e.Limit.Kind, v), e.Limit.Name, e.Limit.Env)
	}
	return fmt.Sprintf("%s: %s is more than the limit of %s %s (set %s to raise it)",
		e.What, Format(e.Limit.Kind, e.N), Format(e.Limit.Kind, v), e.Limit.Name, e.Limit.Env)
}

// All returns every limit, ordered by environment variable.
func All() []*Limit {
	mu.Lock()
	defer mu.Unlock()
	out := make([]*Limit, 0, len(all))
	for _, l := range all {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out
}

// EnvErrors returns an error for each limit whose environment variable is
// set to something that is not a valid value (the default is used then).
func EnvErrors() []error {
	var errs []error
	for _, l := range All() {
		l.mu.Lock()
		l.load()
		if l.envError != nil {
			errs = append(errs, l.envError)
		}
		l.mu.Unlock()
	}
	return errs
}

var units = []struct {
	suffix string
	mult   int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

// Parse reads a value as its environment variable is written.
func Parse(kind Kind, s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch kind {
	case Duration:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("not a positive duration such as 30s or 2m")
		}
		return int64(d), nil
	case Bytes:
		mult := int64(1)
		for _, u := range units {
			if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
				s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
				break
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n > (1<<62)/mult {
			return 0, fmt.Errorf("not a positive size such as 512MiB or 4GiB")
		}
		return n * mult, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("not a positive whole number")
	}
	return n, nil
}

// Format writes a value of a kind for people: 4 GiB, 30s, 178956970.
func Format(kind Kind, v int64) string {
	switch kind {
	case Duration:
		return time.Duration(v).String()
	case Bytes:
		for _, u := range units[:4] {
			if v >= u.mult && v%u.mult == 0 {
				return fmt.Sprintf("%d %s", v/u.mult, u.suffix)
			}
		}
		return fmt.Sprintf("%d bytes", v)
	}
	return strconv.FormatInt(v, 10)
}
