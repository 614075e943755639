package rego

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

// fieldSet is a set of schema fields, one bit per field.
type fieldSet uint64

func (s fieldSet) has(f schema.Field) bool { return s&(1<<f) != 0 }
func (s *fieldSet) add(f schema.Field)     { *s |= 1 << f }

// allFields holds every schema field.
var allFields = func() fieldSet {
	var s fieldSet
	for _, f := range schema.Fields() {
		if int(f) >= 64 {
			panic("rego: fieldSet holds 64 fields; the schema has more")
		}
		s.add(f)
	}
	return s
}()

// Keys of input objects, built once: terms are immutable once built and
// OPA only reads input.
var (
	fieldKeys = func() []*ast.Term {
		keys := make([]*ast.Term, len(schema.Fields()))
		for _, f := range schema.Fields() {
			keys[f] = ast.StringTerm(f.Name())
		}
		return keys
	}()
	keyName   = ast.StringTerm("name")
	keyExt    = ast.StringTerm("ext")
	keyType   = ast.StringTerm("type")
	keySize   = ast.StringTerm("size")
	keySHA256 = ast.StringTerm("sha256")
)

// EventValue returns e as the Rego input object, with the fields that e has
// (schema.Event.Has) among want, and no others. Values have the types of
// InputSchema: time is an RFC 3339 string, attachments a list of objects.
// It reads the Event directly; nothing is encoded or decoded.
func eventValue(e *schema.Event, want fieldSet) ast.Value {
	var buf [64][2]*ast.Term
	kv := buf[:0]
	for _, f := range schema.Fields() {
		if !want.has(f) || !e.Has(f) {
			continue
		}
		var v *ast.Term
		switch f.Kind() {
		case schema.KindString:
			v = ast.StringTerm(e.Str(f))
		case schema.KindInt:
			n, _ := e.Number(f)
			v = intTerm(int64(n))
		case schema.KindFloat:
			v = ast.FloatNumberTerm(e.Delay)
		case schema.KindTime:
			v = ast.StringTerm(e.Time.UTC().Format(time.RFC3339Nano))
		case schema.KindStringList:
			var list []string
			switch f {
			case schema.FieldAttachmentName:
				list = e.AttachmentName
			case schema.FieldAttachmentExt:
				list = e.AttachmentExt
			case schema.FieldAttachmentType:
				list = e.AttachmentType
			}
			terms := make([]*ast.Term, len(list))
			for i, s := range list {
				terms[i] = ast.StringTerm(s)
			}
			v = ast.ArrayTerm(terms...)
		case schema.KindIntList:
			terms := make([]*ast.Term, len(e.AttachmentSize))
			for i, n := range e.AttachmentSize {
				terms[i] = intTerm(n)
			}
			v = ast.ArrayTerm(terms...)
		case schema.KindObjectList:
			terms := make([]*ast.Term, len(e.Attachments))
			for i := range e.Attachments {
				terms[i] = attachmentTerm(&e.Attachments[i])
			}
			v = ast.ArrayTerm(terms...)
		default:
			continue
		}
		kv = append(kv, [2]*ast.Term{fieldKeys[f], v})
	}
	return ast.NewObject(kv...)
}

// keyable reports whether appendKey can encode f: whether f's kind is one
// that eventValue puts in the input.
func keyable(f schema.Field) bool {
	switch f.Kind() {
	case schema.KindString, schema.KindInt, schema.KindFloat, schema.KindTime,
		schema.KindStringList, schema.KindIntList, schema.KindObjectList:
		return true
	}
	return false
}

// appendKey appends to dst the memo key of e for a rule that reads fields
// (keyable, in schema order): for each field whether e has it and, when it
// does, its value, encoded so that equal keys mean equal members of
// eventValue(e, fields): strings and lists are length-prefixed, numbers in
// their binary form, time as the instant. It mirrors eventValue: a change
// to one is a change to the other (TestMemoKeyMatchesInput).
func appendKey(dst []byte, e *schema.Event, fields []schema.Field) []byte {
	for _, f := range fields {
		if !e.Has(f) {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, 1)
		switch f.Kind() {
		case schema.KindString:
			dst = appendKeyString(dst, e.Str(f))
		case schema.KindInt:
			n, _ := e.Number(f)
			dst = binary.AppendVarint(dst, int64(n))
		case schema.KindFloat:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(e.Delay))
		case schema.KindTime:
			dst = binary.AppendVarint(dst, e.Time.Unix())
			dst = binary.AppendUvarint(dst, uint64(e.Time.Nanosecond()))
		case schema.KindStringList:
			var list []string
			switch f {
			case schema.FieldAttachmentName:
				list = e.AttachmentName
			case schema.FieldAttachmentExt:
				list = e.AttachmentExt
			case schema.FieldAttachmentType:
				list = e.AttachmentType
			}
			dst = binary.AppendUvarint(dst, uint64(len(list)))
			for _, s := range list {
				dst = appendKeyString(dst, s)
			}
		case schema.KindIntList:
			dst = binary.AppendUvarint(dst, uint64(len(e.AttachmentSize)))
			for _, n := range e.AttachmentSize {
				dst = binary.AppendVarint(dst, n)
			}
		case schema.KindObjectList:
			dst = binary.AppendUvarint(dst, uint64(len(e.Attachments)))
			for i := range e.Attachments {
				a := &e.Attachments[i]
				dst = appendKeyString(dst, a.Name)
				dst = appendKeyString(dst, a.Ext)
				dst = appendKeyString(dst, a.Type)
				dst = binary.AppendVarint(dst, a.Size)
				dst = appendKeyString(dst, a.SHA256)
			}
		}
	}
	return dst
}

func appendKeyString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// attachmentTerm is one attachment object, without its empty members (as
// its JSON encoding).
func attachmentTerm(a *schema.Attachment) *ast.Term {
	var buf [5][2]*ast.Term
	kv := buf[:0]
	if a.Name != "" {
		kv = append(kv, [2]*ast.Term{keyName, ast.StringTerm(a.Name)})
	}
	if a.Ext != "" {
		kv = append(kv, [2]*ast.Term{keyExt, ast.StringTerm(a.Ext)})
	}
	if a.Type != "" {
		kv = append(kv, [2]*ast.Term{keyType, ast.StringTerm(a.Type)})
	}
	if a.Size != 0 {
		kv = append(kv, [2]*ast.Term{keySize, intTerm(a.Size)})
	}
	if a.SHA256 != "" {
		kv = append(kv, [2]*ast.Term{keySHA256, ast.StringTerm(a.SHA256)})
	}
	return ast.ObjectTerm(kv...)
}

// intTerm is n as a number term (OPA shares the terms of small numbers).
func intTerm(n int64) *ast.Term {
	if n < 0 || int64(int(n)) != n {
		return ast.NewTerm(ast.Number(strconv.FormatInt(n, 10)))
	}
	return ast.InternedTerm(int(n))
}
