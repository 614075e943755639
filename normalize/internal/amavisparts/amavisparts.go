// Package amavisparts reads the MIME parts that amavisd-new names in a
// BANNED verdict, for the two parsers that see amavis lines (amavis on its
// own, and amavis inside a Postfix mail.log).
//
// A banned verdict names the path from the top of the message to the part
// that was banned, one level per " | ", each level inside the one before:
//
//	Blocked BANNED (multipart/mixed | application/zip,.zip,invoice.zip | .exe,.exe-ms,invoice.exe)
//	..., b.parts=P=p003,L=1,M=multipart/mixed | P=p002,L=1/2,M=application/x-iso9660-image,T=iso,N=Order.IMG | P=p004,L=1/2/1,T=exe,T=exe-ms,N=Order-pdf.scr, ...
//
// so every file of the path but the last is a container (an archive or a
// disk image) that holds the next. The b.parts attribute (newer amavis)
// names the containers even where the verdict's own text names only the
// banned file.
package amavisparts

import (
	"strings"

	"github.com/detect-dev/detect/schema"
)

// FromDetail reads the parenthesized detail of a BANNED verdict: one
// attachment per level that names a file, with the level's media type. A
// level is "type,.short,.short2,name" with any of the items missing.
func FromDetail(detail string) []schema.Attachment {
	var out []schema.Attachment
	for _, level := range strings.Split(detail, " | ") {
		var name, typ, short string
		for _, item := range strings.Split(level, ",") {
			item = strings.TrimSpace(item)
			switch {
			case item == "":
			case strings.HasPrefix(item, "."):
				if short == "" {
					short = item[1:]
				}
			case strings.Contains(item, "/") && typ == "" && name == "":
				typ = item
			default:
				name = item
			}
		}
		if a, ok := attachment(name, typ, short); ok {
			out = append(out, a)
		}
	}
	return out
}

// FromBParts reads the value of b.parts=: levels of "P=part,L=level,
// M=media/type,T=short,...,N=name". N= comes last and is taken to the end of
// its level, as a file name may hold commas.
func FromBParts(v string) []schema.Attachment {
	var out []schema.Attachment
	for _, level := range strings.Split(v, " | ") {
		var name, typ, short string
		if i := strings.Index(level, "N="); i == 0 || (i > 0 && level[i-1] == ',') {
			name, level = strings.TrimSpace(level[i+2:]), level[:i]
		}
		for _, item := range strings.Split(level, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			switch {
			case k == "M" && typ == "":
				typ = val
			case k == "T" && short == "":
				short = val
			}
		}
		if a, ok := attachment(name, typ, short); ok {
			out = append(out, a)
		}
	}
	return out
}

// attachment makes one attachment of a named level; the extension comes
// from the name, else from amavis' short type.
func attachment(name, typ, short string) (schema.Attachment, bool) {
	if name == "" {
		return schema.Attachment{}, false
	}
	a := schema.Attachment{Name: name, Type: typ, Ext: schema.ExtOf(name)}
	if a.Ext == "" && short != "" {
		a.Ext = strings.ToLower(short)
	}
	return a, true
}

// Banned returns the attachments of a BANNED verdict: from b.parts= when the
// line has it (rest is the line after the recipients), else from the
// verdict's detail.
func Banned(detail, rest string) []schema.Attachment {
	const key = ", b.parts="
	if i := strings.Index(rest, key); i >= 0 {
		v := rest[i+len(key):]
		if end := strings.Index(v, ", "); end >= 0 {
			v = v[:end]
		}
		if parts := FromBParts(v); len(parts) > 0 {
			return parts
		}
	}
	return FromDetail(detail)
}
