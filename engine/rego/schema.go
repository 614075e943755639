package rego

import (
	"reflect"
	"strings"

	"github.com/detect-dev/detect/schema"
)

// InputSchema returns the JSON Schema of input, one event, generated from
// the schema package's field registry (and the Attachment type's JSON tags
// for the objects in attachments), so the type checker's view of an event
// cannot drift from the events the engine builds. Unknown properties are
// not allowed: a misspelt field is a type error.
func InputSchema() map[string]any {
	props := make(map[string]any, len(schema.Fields()))
	for _, f := range schema.Fields() {
		info := f.Info()
		var p map[string]any
		switch info.Kind {
		case schema.KindString:
			p = map[string]any{"type": "string"}
		case schema.KindInt:
			p = map[string]any{"type": "integer"}
		case schema.KindFloat:
			p = map[string]any{"type": "number"}
		case schema.KindTime:
			p = map[string]any{"type": "string", "format": "date-time"}
		case schema.KindStringList:
			p = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		case schema.KindIntList:
			p = map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}
		case schema.KindObjectList:
			p = map[string]any{"type": "array", "items": attachmentSchema()}
		}
		p["description"] = info.Doc
		props[info.Name] = p
	}
	return map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"title":                "detect event",
		"description":          "One normalized mail-log event (DESIGN.md section 2); absent fields are missing, not empty.",
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
}

// attachmentSchema describes one element of attachments from the JSON tags of
// schema.Attachment.
func attachmentSchema() map[string]any {
	props := map[string]any{}
	t := reflect.TypeFor[schema.Attachment]()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		typ := "string"
		switch sf.Type.Kind() {
		case reflect.Int, reflect.Int32, reflect.Int64:
			typ = "integer"
		case reflect.Float32, reflect.Float64:
			typ = "number"
		}
		props[name] = map[string]any{"type": typ}
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}
