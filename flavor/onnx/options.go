package onnx

import (
	"github.com/augurdb/augur/model"
	"github.com/augurdb/augur/modeltype"
)

// OptionKeys implements model.OptionKeyer: the keys of the ONNX model
// types.
func (Flavor) OptionKeys(*model.Spec) []model.OptionKey { return modeltype.OptionKeys() }

// OptionKeys implements model.OptionKeyer for the delegating flavors
// (tensorflow), which load .onnx files only.
func (delegate) OptionKeys(*model.Spec) []model.OptionKey { return modeltype.OptionKeys() }
