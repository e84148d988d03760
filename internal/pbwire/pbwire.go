// Package pbwire walks and rewrites protobuf messages field by field,
// for the readers of ONNX models that must keep every field they do not
// understand (runtime/onnx inlines external data, flavor/pytorch binds
// weights) without a generated schema.
package pbwire

import "google.golang.org/protobuf/encoding/protowire"

// EachField calls f for every field of an encoded message. For a
// length-delimited field b is its payload; for the other types it is the
// field's encoded value, which AppendField writes back unchanged.
func EachField(msg []byte, f func(num protowire.Number, typ protowire.Type, b []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		var b []byte
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(msg)
			if m < 0 {
				return protowire.ParseError(m)
			}
			b, n = v, m
		} else {
			n = protowire.ConsumeFieldValue(num, typ, msg)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = msg[:n]
		}
		if err := f(num, typ, b); err != nil {
			return err
		}
		msg = msg[n:]
	}
	return nil
}

// AppendField writes back a field that EachField handed over.
func AppendField(out []byte, num protowire.Number, typ protowire.Type, b []byte) []byte {
	out = protowire.AppendTag(out, num, typ)
	if typ == protowire.BytesType {
		return protowire.AppendBytes(out, b)
	}
	return append(out, b...)
}
