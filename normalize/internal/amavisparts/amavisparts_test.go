package amavisparts

import (
	"reflect"
	"testing"

	"github.com/detect-dev/detect/schema"
)

func TestFromDetail(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []schema.Attachment
	}{
		{"multipart/mixed | application/x-msdownload,.exe,.exe-ms,Invoice.EXE",
			[]schema.Attachment{{Name: "Invoice.EXE", Ext: "exe", Type: "application/x-msdownload"}}},
		// The container and the file inside it.
		{"multipart/mixed | application/zip,.zip,invoice.zip | .exe,.exe-ms,invoice.exe",
			[]schema.Attachment{{Name: "invoice.zip", Ext: "zip", Type: "application/zip"}, {Name: "invoice.exe", Ext: "exe"}}},
		// A part without a name keeps nothing.
		{"multipart/mixed | .exe,.exe-ms", nil},
		{"a, b.pdf", []schema.Attachment{{Name: "b.pdf", Ext: "pdf"}}},
		// No extension in the name: amavis' short type stands in.
		{".exe,.exe-ms,setup", []schema.Attachment{{Name: "setup", Ext: "exe"}}},
	} {
		if got := FromDetail(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FromDetail(%q)\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
}

// The b.parts of the production log in the shared corpus (pixelpark): a
// disk image holding a screensaver executable.
func TestBannedPrefersBParts(t *testing.T) {
	rest := `, Queue-ID: 4Pc3ZX1jFxz3tBr, helo=mout.gmx.net, b.key=(?^:^\\.(exe-ms|dll)$), b.rhs=1, ` +
		`b.parts=P=p003,L=1,M=multipart/mixed | P=p002,L=1/2,M=application/x-iso9660-image,T=iso,N=Purchase Order-20230315 & Leaflets.IMG | P=p004,L=1/2/1,T=exe,T=exe-ms,N=Purchase Order-20230315-pdf.scr, dkim_i=@x.example, 2680 ms`
	got := Banned(".exe,.exe-ms,Purchase Order-20230315-pdf.scr", rest)
	want := []schema.Attachment{
		{Name: "Purchase Order-20230315 & Leaflets.IMG", Ext: "img", Type: "application/x-iso9660-image"},
		{Name: "Purchase Order-20230315-pdf.scr", Ext: "scr"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// Without b.parts, the detail alone.
	got = Banned(".exe,.exe-ms,Purchase Order-20230315-pdf.scr", ", Queue-ID: Q1, 2680 ms")
	if len(got) != 1 || got[0].Ext != "scr" {
		t.Errorf("detail fallback: %+v", got)
	}
}

func TestFromBPartsNameWithComma(t *testing.T) {
	got := FromBParts("P=p002,L=1/2,M=application/zip,T=zip,N=Rechnung 4711,März.zip | P=p004,L=1/2/1,T=exe,N=x")
	want := []schema.Attachment{
		{Name: "Rechnung 4711,März.zip", Ext: "zip", Type: "application/zip"},
		{Name: "x", Ext: "exe"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
