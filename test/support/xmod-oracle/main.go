// Command xmod-oracle answers questions about module paths and versions with
// Go's own golang.org/x/mod, for the differential tests of core/gomod and
// checksum/ (module zips: zip.CheckZip and dirhash.HashZip).
//
// It reads one JSON case per line on stdin, {"op": "...", "a": "...", "b": "..."},
// and writes one JSON result per line on stdout, {"err": "...", "out": [...]},
// where err is empty on success. It is built in GOPATH mode against Debian's
// golang-golang-x-mod-dev; see test/support/xmod-oracle.ts.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/mod/zip"
)

type oracleCase struct {
	Op string `json:"op"`
	A  string `json:"a"`
	B  string `json:"b"`
}

type oracleResult struct {
	Err string        `json:"err,omitempty"`
	Out []interface{} `json:"out"`
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func answer(c oracleCase) oracleResult {
	switch c.Op {
	case "checkPath":
		return oracleResult{Err: errString(module.CheckPath(c.A)), Out: []interface{}{}}
	case "checkImportPath":
		return oracleResult{Err: errString(module.CheckImportPath(c.A)), Out: []interface{}{}}
	case "checkFilePath":
		return oracleResult{Err: errString(module.CheckFilePath(c.A)), Out: []interface{}{}}
	case "escapePath":
		v, err := module.EscapePath(c.A)
		return oracleResult{Err: errString(err), Out: []interface{}{v}}
	case "unescapePath":
		v, err := module.UnescapePath(c.A)
		return oracleResult{Err: errString(err), Out: []interface{}{v}}
	case "escapeVersion":
		v, err := module.EscapeVersion(c.A)
		return oracleResult{Err: errString(err), Out: []interface{}{v}}
	case "unescapeVersion":
		v, err := module.UnescapeVersion(c.A)
		return oracleResult{Err: errString(err), Out: []interface{}{v}}
	case "splitPathVersion":
		prefix, major, ok := module.SplitPathVersion(c.A)
		return oracleResult{Out: []interface{}{prefix, major, ok}}
	case "semver":
		return oracleResult{Out: []interface{}{
			semver.IsValid(c.A), semver.Canonical(c.A), semver.Major(c.A), semver.MajorMinor(c.A),
			semver.Prerelease(c.A), semver.Build(c.A), module.IsPseudoVersion(c.A), module.CanonicalVersion(c.A),
		}}
	case "compare":
		return oracleResult{Out: []interface{}{semver.Compare(c.A, c.B), semver.Max(c.A, c.B)}}
	case "matchPrefixPatterns":
		return oracleResult{Out: []interface{}{module.MatchPrefixPatterns(c.A, c.B)}}
	case "pathMatch":
		matched, err := path.Match(c.A, c.B)
		return oracleResult{Out: []interface{}{matched, err != nil}}
	case "parseTilePath":
		t, err := tlog.ParseTilePath(c.A)
		return oracleResult{Err: errString(err), Out: []interface{}{t.H, t.L, fmt.Sprint(t.N), t.W}}
	case "zipHash":
		return zipHash(c.A, c.B)
	}
	return oracleResult{Err: "unknown op " + c.Op, Out: []interface{}{}}
}

// zipHash answers what the go command decides about a downloaded module zip
// at path a for b = "<module>@<version>": zip.CheckZip (names, collisions,
// sizes; the prefix check of modfetch.downloadZip is part of it), then
// dirhash.HashZip, which reads every entry through archive/zip (CRC-32 and
// sizes). out is [hash] on success.
func zipHash(file, modVersion string) oracleResult {
	at := strings.LastIndex(modVersion, "@")
	if at < 0 {
		return oracleResult{Err: "zipHash: b is not module@version", Out: []interface{}{}}
	}
	m := module.Version{Path: modVersion[:at], Version: modVersion[at+1:]}
	cf, err := zip.CheckZip(m, file)
	if err == nil {
		err = cf.Err()
	}
	if err != nil {
		return oracleResult{Err: "check: " + err.Error(), Out: []interface{}{}}
	}
	h, err := dirhash.HashZip(file, dirhash.DefaultHash)
	if err != nil {
		return oracleResult{Err: "hash: " + err.Error(), Out: []interface{}{}}
	}
	return oracleResult{Out: []interface{}{h}}
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 {
			var c oracleCase
			if jerr := json.Unmarshal(line, &c); jerr != nil {
				fmt.Fprintf(os.Stderr, "xmod-oracle: bad case: %v\n", jerr)
				os.Exit(2)
			}
			enc.Encode(answer(c))
			// Answer a whole batch at once, but never hold back the last line of it.
			if in.Buffered() == 0 {
				out.Flush()
			}
		}
		if err == io.EOF {
			out.Flush()
			return
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "xmod-oracle: %v\n", err)
			os.Exit(2)
		}
	}
}
