package source

import (
	"context"
	"strings"
	"testing"
)

func TestTorchHubURIs(t *testing.T) {
	for _, c := range []struct{ uri, owner, repo, tag, model string }{
		{"torchhub:///pytorch/vision/resnet50", "pytorch", "vision", "", "resnet50"},
		{"torchhub:///pytorch/vision:v0.9.1/resnet50", "pytorch", "vision", "v0.9.1", "resnet50"},
		{"torchhub://pytorch/vision:v0.9.1/resnet50", "pytorch", "vision", "v0.9.1", "resnet50"},
		{"torchhub://pytorch/vision/efficientnet_b0/", "pytorch", "vision", "", "efficientnet_b0"},
		{"TorchHub:///facebookresearch/dino:main/dino_vits16", "facebookresearch", "dino", "main", "dino_vits16"},
	} {
		art, err := Resolve(context.Background(), c.uri, "/")
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		th, ok := art.(*TorchHub)
		if !ok {
			t.Fatalf("%s: artifact %T", c.uri, art)
		}
		if th.Owner != c.owner || th.Repo != c.repo || th.Tag != c.tag || th.Model != c.model || th.Location() != c.uri {
			t.Errorf("%s: got %+v", c.uri, th)
		}
		if _, local := th.LocalPath(); local {
			t.Errorf("%s: a local path", c.uri)
		}
		if _, err := th.Open(context.Background()); err == nil {
			t.Errorf("%s: Open read something", c.uri)
		}
	}
	if th, _ := ParseTorchHub("torchhub:///pytorch/vision:v0.14.0/resnet18"); th.RepoOrDir() != "pytorch/vision:v0.14.0" {
		t.Errorf("RepoOrDir %q", th.RepoOrDir())
	}
}

func TestBadTorchHubURIs(t *testing.T) {
	for _, uri := range []string{
		"torchhub:///pytorch/vision",
		"torchhub:///pytorch/vision/resnet50/extra",
		"torchhub://resnet50",
		"torchhub:///",
		"torchhub:///pytorch//resnet50",
		"torchhub:///pytorch/vision:/resnet50",
		"torchhub:///pytorch/vision:a:b/resnet50",
		"torchhub:///pytorch/vision/resnet50?pretrained=1",
	} {
		_, err := Resolve(context.Background(), uri, "/")
		if err == nil || !strings.Contains(err.Error(), "Bad URI, expected torchhub:///<org>/<prj>/<mdl>") {
			t.Errorf("%s: error %v, want Rikai's Bad URI", uri, err)
		}
	}
	if _, err := ParseTorchHub("tfhub:///tensorflow/ssd_mobilenet_v2/2"); err == nil || !strings.Contains(err.Error(), `Expect schema: torchhub, but got "tfhub"`) {
		t.Errorf("wrong scheme: %v", err)
	}
}
