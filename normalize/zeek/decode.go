package zeek

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"encoding/json"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// record is one decoded smtp.log or files.log record: the fields the
// parser uses, from either writer.
type record struct {
	path string // smtp, files, or another log's name

	ts                                       time.Time
	uid, origH, respH, helo                  string
	mailFrom                                 string
	hasMailFrom                              bool
	msgID, subject, lastReply                string
	rcptTo, fuids                            []string
	fuid, source, mimeType, filename, sha256 string
	totalBytes, seenBytes                    int64
}

// Column roles of a TSV header.
const (
	colTS = iota
	colUID
	colOrigH
	colRespH
	colHelo
	colMailFrom
	colRcptTo
	colMsgID
	colSubject
	colLastReply
	colFuids
	colFuid
	colSource
	colMimeType
	colFilename
	colTotalBytes
	colSeenBytes
	colSHA256
	colConnUIDs // files.log before Zeek 5: a set of connection uids
	numCols
)

var colNames = map[string]int{
	"ts": colTS, "uid": colUID, "id.orig_h": colOrigH, "id.resp_h": colRespH, "helo": colHelo,
	"mailfrom": colMailFrom, "rcptto": colRcptTo, "msg_id": colMsgID, "subject": colSubject,
	"last_reply": colLastReply, "fuids": colFuids, "fuid": colFuid, "source": colSource,
	"mime_type": colMimeType, "filename": colFilename, "total_bytes": colTotalBytes,
	"seen_bytes": colSeenBytes, "sha256": colSHA256, "conn_uids": colConnUIDs,
}

// header is the state of a TSV file: its directives and the column of each
// field the parser uses.
type header struct {
	sep, setSep, empty, unset string
	path                      string
	fields                    []string
	col                       [numCols]int // -1 when absent
}

func defaultHeader() header {
	h := header{sep: "\t", setSep: ",", empty: "(empty)", unset: "-"}
	for i := range h.col {
		h.col[i] = -1
	}
	return h
}

// directive reads a '#' line. It reports false only for a #fields line
// without fields; other comments (btest banners, #open, #close, #types)
// are accepted as header lines.
func (h *header) directive(s string) bool {
	if v, ok := strings.CutPrefix(s, "#separator "); ok {
		if sep := unescape(v); sep != "" {
			h.sep = sep
		}
		return true
	}
	name, v, ok := strings.Cut(s[1:], h.sep)
	if !ok {
		return true
	}
	switch name {
	case "set_separator":
		h.setSep = unescape(v)
	case "empty_field":
		h.empty = v
	case "unset_field":
		h.unset = v
	case "path":
		h.path = v
	case "fields":
		if v == "" {
			return false
		}
		h.setFields(strings.Split(v, h.sep))
	}
	return true
}

func (h *header) setFields(fields []string) {
	h.fields = fields
	for i := range h.col {
		h.col[i] = -1
	}
	for i, f := range fields {
		if c, ok := colNames[f]; ok {
			h.col[c] = i
		}
	}
	if h.path == "" {
		// zeek-cut extracts carry no #path: tell the log by its columns.
		switch {
		case h.col[colFuid] >= 0 || h.col[colMimeType] >= 0 && h.col[colRcptTo] < 0:
			h.path = "files"
		case h.col[colRcptTo] >= 0 || h.col[colMailFrom] >= 0 || h.col[colLastReply] >= 0:
			h.path = "smtp"
		}
	}
}

// cutHeader recognizes the header row of a zeek-cut extract: tab-separated
// field names (lower case, digits, '_' and '.'), one of which is uid, fuid
// or ts. A trailing empty column is allowed.
func (h *header) cutHeader(s string) bool {
	names := strings.Split(strings.TrimRight(s, "\t"), "\t")
	known := false
	for _, n := range names {
		if n == "" {
			return false
		}
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
				return false
			}
		}
		if n == "uid" || n == "fuid" || n == "ts" {
			known = true
		}
	}
	if !known {
		return false
	}
	h.setFields(names)
	return true
}

// decodeTSV splits a record line by the header's columns.
func (h *header) decodeTSV(s string) (record, bool) {
	var r record
	if h.fields == nil {
		return r, false
	}
	vals := strings.Split(s, h.sep)
	if len(vals) == len(h.fields)+1 && vals[len(vals)-1] == "" {
		vals = vals[:len(vals)-1] // a trailing separator
	}
	if len(vals) != len(h.fields) {
		return r, false
	}
	r.path = h.path
	str := func(c int) (string, bool) {
		i := h.col[c]
		if i < 0 || vals[i] == h.unset {
			return "", false
		}
		return unescape(vals[i]), true
	}
	set := func(c int) []string {
		i := h.col[c]
		if i < 0 || vals[i] == h.unset || vals[i] == h.empty || vals[i] == "" {
			return nil
		}
		parts := strings.Split(vals[i], h.setSep)
		for k := range parts {
			parts[k] = unescape(parts[k])
		}
		return parts
	}
	num := func(c int) int64 {
		v, _ := str(c)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	if v, ok := str(colTS); ok {
		r.ts, _ = parseEpoch(v)
	}
	r.uid, _ = str(colUID)
	r.origH, _ = str(colOrigH)
	r.respH, _ = str(colRespH)
	r.helo, _ = str(colHelo)
	r.mailFrom, r.hasMailFrom = str(colMailFrom)
	r.rcptTo = set(colRcptTo)
	r.msgID, _ = str(colMsgID)
	r.subject, _ = str(colSubject)
	r.lastReply, _ = str(colLastReply)
	r.fuids = set(colFuids)
	r.fuid, _ = str(colFuid)
	r.source, _ = str(colSource)
	r.mimeType, _ = str(colMimeType)
	r.filename, _ = str(colFilename)
	r.totalBytes = num(colTotalBytes)
	r.seenBytes = num(colSeenBytes)
	r.sha256, _ = str(colSHA256)
	if r.uid == "" {
		if u := set(colConnUIDs); len(u) > 0 {
			r.uid = u[0]
		}
	}
	return r, true
}

// jsonRecord is the JSON shape of the fields the parser uses.
type jsonRecord struct {
	Path       string          `json:"_path"`
	TS         json.RawMessage `json:"ts"`
	UID        string          `json:"uid"`
	OrigH      string          `json:"id.orig_h"`
	RespH      string          `json:"id.resp_h"`
	TransDepth *int            `json:"trans_depth"`
	Helo       string          `json:"helo"`
	MailFrom   *string         `json:"mailfrom"`
	RcptTo     []string        `json:"rcptto"`
	MsgID      string          `json:"msg_id"`
	Subject    string          `json:"subject"`
	LastReply  string          `json:"last_reply"`
	Fuids      []string        `json:"fuids"`
	Fuid       string          `json:"fuid"`
	Source     string          `json:"source"`
	MimeType   string          `json:"mime_type"`
	Filename   string          `json:"filename"`
	TotalBytes int64           `json:"total_bytes"`
	SeenBytes  int64           `json:"seen_bytes"`
	SHA256     string          `json:"sha256"`
	ConnUIDs   []string        `json:"conn_uids"`
}

// decodeJSON decodes one JSON record. Records without _path (Zeek's own
// JSON writer) are told apart by their fields.
func decodeJSON(s string) (record, bool) {
	var j jsonRecord
	var r record
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return r, false
	}
	r.path = j.Path
	if r.path == "" {
		switch {
		case j.Fuid != "":
			r.path = "files"
		case j.RcptTo != nil || j.MailFrom != nil || j.LastReply != "" || j.TransDepth != nil && j.Helo != "":
			r.path = "smtp"
		}
	}
	if len(j.TS) > 0 {
		t := strings.TrimSpace(string(j.TS))
		if strings.HasPrefix(t, `"`) {
			var v string
			if json.Unmarshal(j.TS, &v) == nil {
				if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
					r.ts = ts.UTC()
				} else {
					r.ts, _ = parseEpoch(v)
				}
			}
		} else {
			r.ts, _ = parseEpoch(t)
		}
	}
	r.uid, r.origH, r.respH, r.helo = j.UID, j.OrigH, j.RespH, j.Helo
	if j.MailFrom != nil {
		r.mailFrom, r.hasMailFrom = *j.MailFrom, true
	}
	r.rcptTo, r.msgID, r.subject, r.lastReply, r.fuids = j.RcptTo, j.MsgID, j.Subject, j.LastReply, j.Fuids
	r.fuid, r.source, r.mimeType, r.filename, r.sha256 = j.Fuid, j.Source, j.MimeType, j.Filename, j.SHA256
	r.totalBytes, r.seenBytes = max(j.TotalBytes, 0), max(j.SeenBytes, 0)
	if r.uid == "" && len(j.ConnUIDs) > 0 {
		r.uid = j.ConnUIDs[0]
	}
	return r, true
}

// parseEpoch reads "1521911721.789543" exactly (no float rounding).
func parseEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, false
	}
	nsec := int64(0)
	scale := int64(1e8)
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		nsec += int64(c-'0') * scale
		scale /= 10
	}
	return time.Unix(n, nsec).UTC(), true
}

// unescape undoes the TSV writer's escapes: \xHH for separators and
// non-printable bytes, and \\ for the backslash.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 3
			continue
		}
		if c == '\\' && i+1 < len(s) && s[i+1] == '\\' {
			b.WriteByte('\\')
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

var wordDecoder = &mime.WordDecoder{}

// decodeWords decodes RFC 2047 encoded words in a subject; on failure (an
// unsupported charset) the raw text is kept.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// siblingNames returns the files.log names to look for next to an smtp
// log: "smtp" replaced by "files" in the base name (smtp.log, smtp.json,
// smtp.09:00:00-10:00:00.log.gz), and a zeek-cut extract of it (.cut).
func siblingNames(path string) []string {
	base := filepath.Base(path)
	i := strings.Index(base, "smtp")
	if path == "-" || i < 0 {
		return nil
	}
	dir := filepath.Dir(path)
	name := base[:i] + "files" + base[i+len("smtp"):]
	return []string{filepath.Join(dir, name), filepath.Join(dir, name+".cut")}
}

// loadSibling reads the files.log next to an smtp log into the join map.
func (p *Parser) loadSibling(path string) {
	for _, name := range siblingNames(path) {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		err = p.loadFiles(f, name)
		f.Close()
		if err != nil {
			p.siblingErrs++
		}
		return
	}
}

// loadFiles reads files.log records from r (decompressing .gz and .bz2 by
// name) and keeps the SMTP ones.
func (p *Parser) loadFiles(r io.Reader, name string) error {
	switch {
	case strings.HasSuffix(name, ".gz"):
		z, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		defer z.Close()
		r = z
	case strings.HasSuffix(name, ".bz2"):
		r = bzip2.NewReader(r)
	}
	h := defaultHeader()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		text := strings.TrimSuffix(sc.Text(), "\r")
		var rec record
		var ok bool
		switch {
		case text == "":
			continue
		case text[0] == '#':
			h.directive(text)
			continue
		case text[0] == '{':
			rec, ok = decodeJSON(text)
		case h.fields == nil && h.cutHeader(text):
			continue
		default:
			rec, ok = h.decodeTSV(text)
		}
		if !ok || rec.path != "files" || rec.fuid == "" ||
			rec.source != "" && !strings.EqualFold(rec.source, "SMTP") {
			continue
		}
		p.addFile(&rec)
		p.filesLoaded++
	}
	return sc.Err()
}
