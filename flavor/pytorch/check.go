package pytorch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/augurdb/augur/internal/untrusted"
	"github.com/augurdb/augur/torchfile"
)

// maxListed is how many keys of each kind an error lists.
const maxListed = 5

// mismatch collects what torch's strict load_state_dict would report.
type mismatch struct {
	missing, unexpected, shapes []string
}

// checkKeys compares a file's state_dict with the architecture as torch's
// load_state_dict(strict=True) does: every key of the model present,
// no other key, equal shapes. BatchNorm's num_batches_tracked is optional
// both ways, as torch's BatchNorm and FrozenBatchNorm2d load it. The
// classification head may have another number of classes (dim 0, the
// same in all of the head's keys): that number is returned (0 without a
// head).
func checkKeys(a *Arch, sd *torchfile.StateDict) (int64, error) {
	var m mismatch
	classes := int64(0)
	for _, k := range a.Manifest.Keys {
		t, ok := sd.Tensors[k.Key]
		if !ok {
			if !optionalKey(k.Key) {
				m.missing = append(m.missing, k.Key)
			}
			continue
		}
		if mult, isHead := a.head[k.Key]; isHead {
			c, ok := headShapeOK(k.Shape, t.Shape, mult, classes)
			if ok {
				classes = c
				continue
			}
		} else if slices.Equal(k.Shape, t.Shape) {
			continue
		}
		m.shapes = append(m.shapes, fmt.Sprintf("%s: %s in the file, %s in %s",
			untrusted.Quote(k.Key), shapeText(t.Shape), shapeText(k.Shape), a.Manifest.Builder))
	}
	for _, k := range sd.Keys {
		if _, ok := a.byKey[k]; !ok && !optionalKey(k) {
			m.unexpected = append(m.unexpected, k)
		}
	}
	if err := m.err(a); err != nil {
		return 0, err
	}
	return classes, nil
}

// optionalKey: torch fills a missing num_batches_tracked (files from before
// it existed) and FrozenBatchNorm2d drops it.
func optionalKey(k string) bool { return strings.HasSuffix(k, "num_batches_tracked") }

// headShapeOK accepts a head tensor whose dim 0 (classes times mult)
// differs from the architecture's, the other dims equal, and the classes
// equal to those of the head's other keys (prev, 0 if none yet).
func headShapeOK(want, got []int64, mult, prev int64) (int64, bool) {
	if len(want) != len(got) || len(got) == 0 || got[0] <= 0 || got[0]%mult != 0 {
		return 0, false
	}
	classes := got[0] / mult
	if (prev != 0 && classes != prev) || !slices.Equal(want[1:], got[1:]) {
		return 0, false
	}
	return classes, true
}

func shapeText(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (m *mismatch) err(a *Arch) error {
	if len(m.missing)+len(m.unexpected)+len(m.shapes) == 0 {
		return nil
	}
	var parts []string
	if len(m.missing) > 0 {
		parts = append(parts, "missing keys "+listed(quoteAll(m.missing)))
	}
	if len(m.unexpected) > 0 {
		parts = append(parts, "unexpected keys "+listed(quoteAll(m.unexpected)))
	}
	if len(m.shapes) > 0 {
		parts = append(parts, "shape mismatches "+listed(m.shapes))
	}
	return fmt.Errorf("the weights do not fit torchvision's %s (as torch's strict load_state_dict checks them): %s",
		a.Manifest.Builder, strings.Join(parts, "; "))
}

func quoteAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = untrusted.Quote(k)
	}
	return out
}

// listed joins at most maxListed items, then says how many more.
func listed(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}
