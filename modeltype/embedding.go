package modeltype

import (
	"fmt"

	"github.com/augurdb/augur/internal/untrusted"
	rt "github.com/augurdb/augur/runtime/onnx"
)

// takeEmbedding lets MODEL_TYPE feature_extractor take a classifier's
// ordinary export: when the model's one output is the class logits
// ([N, classes], as many as the labels the model type uses) computed by a
// final linear layer from a global average pooling, the model is reloaded
// with the pooling's output as its output. That is the pooled embedding
// torchvision's feature extraction gives (the backbone and its average
// pool, before any classifier head), so resnet50.onnx gives 2048 features
// rather than 1000 logits. A model already exported as a feature
// extractor, or any other graph, is left as it is.
func takeEmbedding(l *Loaded, prep prepKind) error {
	s := l.Session
	if l.Bytes == nil || len(s.Outputs) != 1 {
		return nil
	}
	classes := len(l.Labels)
	if classes == 0 && prep == torchvisionPrep {
		classes = len(ImageNetLabels)
	}
	o := s.Outputs[0]
	if d := o.Dimensions; classes == 0 || len(d) != 2 || d[1] != int64(classes) {
		return nil
	}
	g, err := rt.ReadGraph(l.Bytes)
	if err != nil {
		return err
	}
	head := g.Producer(o.Name)
	if head < 0 || !linearOps[g.Nodes[head].Op] {
		return nil
	}
	pooled := ""
	for _, i := range g.Ancestors(o.Name) {
		if g.Nodes[i].Op == "GlobalAveragePool" && len(g.Nodes[i].Outputs) == 1 {
			pooled = g.Nodes[i].Outputs[0]
		}
	}
	if pooled == "" {
		return nil
	}
	cut, err := rt.CutAt(l.Bytes, pooled)
	if err != nil {
		return fmt.Errorf("taking the pooled embedding %s of the classifier: %w", untrusted.Quote(pooled), err)
	}
	sess, err := rt.NewSession(cut, rt.Options{Threads: s.Threads, Optimized: optimizedDir()})
	if err != nil {
		return fmt.Errorf("taking the pooled embedding %s of the classifier: %w", untrusted.Quote(pooled), err)
	}
	s.Close()
	l.Session = sess
	return nil
}

// linearOps are the operators a classifier's final linear layer exports
// to (torch.nn.Linear is Gemm, or MatMul then Add).
var linearOps = map[string]bool{"Gemm": true, "MatMul": true, "Add": true}
