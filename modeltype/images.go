package modeltype

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/augurdb/augur/imaging"
	"github.com/augurdb/augur/model"
)

// imageRows checks that a batch has one image argument per row.
func imageRows(b *model.Batch, kind string) ([]any, error) {
	if len(b.Args) != 1 {
		return nil, fmt.Errorf("MODEL_TYPE %s takes one image argument, got %d arguments", kind, len(b.Args))
	}
	return b.Args[0], nil
}

// decodeFunc decodes an image's encoded bytes into what a model takes.
type decodeFunc func(data []byte) (*imaging.Image, error)

// loadImages reads the images of vals and decodes them with decode on
// every core. A row that fails has a nil image and its error.
func loadImages(ctx context.Context, vals []any, decode decodeFunc) ([]*imaging.Image, []error) {
	return loadImagesOn(ctx, workers(len(vals)), vals, decode)
}

// loadImagesOn is loadImages on n goroutines. Its time is pre-processing
// for ctx's recorder (model.Pre).
func loadImagesOn(ctx context.Context, n int, vals []any, decode decodeFunc) ([]*imaging.Image, []error) {
	defer model.AddPhase(ctx, model.Pre, time.Now())
	ims := make([]*imaging.Image, len(vals))
	errs := make([]error, len(vals))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(1, min(n, len(vals))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ims[i], errs[i] = imaging.Load(ctx, vals[i], decode)
			}
		}()
	}
	for i := range vals {
		next <- i
	}
	close(next)
	wg.Wait()
	return ims, errs
}

// rowError applies on_error to a row that failed: an error that fails
// the query, or nil (the row's result is NULL).
func (l *Loaded) rowError(err error) error {
	if l.Options.OnErrorNull {
		return nil
	}
	return fmt.Errorf("%v (OPTIONS (on_error = 'null') returns NULL for such rows)", err)
}
