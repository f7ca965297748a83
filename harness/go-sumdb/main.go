// Command go-sumdb is a checksum database for tests built from the Go team's
// own code (golang.org/x/mod 0.7.0: sumdb.NewServer, sumdb/tlog, sumdb/note):
// it serves /latest, /lookup/ and /tile/ for the records it is given, signed
// with a key made at start, on 127.0.0.1 and a free port. It prints two lines
// on stdout: its URL and its verifier key.
//
// Control endpoints (POST unless said):
//
//	/_control/add?path=P&version=V   body: the record (go.sum lines); answers the record id
//	/_control/fill?n=N               appends filler records until the log holds N
//	/_control/mode?set=M             normal | fork | lie | badtiles
//	/_control/signed?n=N (GET)       the signed head of the first N records of the log in use
//
// fork serves a second log of the same name and key that holds one record
// more at its start, so no head of it is consistent with a head of the first;
// lie serves records whose hashes differ from the ones in the log; badtiles
// serves hash tiles with their first byte flipped.
//
// Flags: -name (the database name), -records (a JSON file of [{"path","version","gosum"}] added at start).
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A log: records, their stored hashes and the index by module@version.
type txlog struct {
	records [][]byte
	hashes  []tlog.Hash
	lookup  map[string]int64
}

func newLog() *txlog { return &txlog{lookup: map[string]int64{}} }

func (l *txlog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, os.ErrNotExist
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *txlog) add(key string, data []byte) int64 {
	if id, ok := l.lookup[key]; ok {
		return id
	}
	id := int64(len(l.records))
	hashes, err := tlog.StoredHashes(id, data, l)
	if err != nil {
		panic(err)
	}
	l.records = append(l.records, data)
	l.hashes = append(l.hashes, hashes...)
	if key != "" {
		l.lookup[key] = id
	}
	return id
}

// ops is the sumdb.ServerOps of the log in use, bent by the mode.
type ops struct {
	mu         sync.Mutex
	main, fork *txlog
	mode       string
	signer     note.Signer
}

func (o *ops) current() *txlog {
	if o.mode == "fork" {
		return o.fork
	}
	return o.main
}

func (o *ops) signed(n int64) ([]byte, error) {
	l := o.current()
	if n < 0 || n > int64(len(l.records)) {
		return nil, os.ErrNotExist
	}
	h, err := tlog.TreeHash(n, l)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: n, Hash: h}))}, o.signer)
}

func (o *ops) Signed(ctx context.Context) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.signed(int64(len(o.current().records)))
}

func (o *ops) ReadRecords(ctx context.Context, id, n int64) ([][]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.current()
	if id < 0 || id+n > int64(len(l.records)) {
		return nil, os.ErrNotExist
	}
	var out [][]byte
	for _, r := range l.records[id : id+n] {
		if o.mode == "lie" {
			r = lie(r)
		}
		out = append(out, r)
	}
	return out, nil
}

// lie replaces the first h1 hash of a record with another well-formed one.
func lie(record []byte) []byte {
	text := string(record)
	i := strings.Index(text, "h1:")
	if i < 0 {
		return record
	}
	j := strings.IndexByte(text[i:], '\n') + i
	other := sha256.Sum256([]byte(text[i:j]))
	return []byte(text[:i] + "h1:" + base64.StdEncoding.EncodeToString(other[:]) + text[j:])
}

func (o *ops) Lookup(ctx context.Context, m module.Version) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.current().lookup[m.String()]; ok {
		return id, nil
	}
	return 0, os.ErrNotExist
}

func (o *ops) ReadTileData(ctx context.Context, t tlog.Tile) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.current()
	last := tlog.StoredHashIndex(t.H*t.L, t.N<<uint(t.H)+int64(t.W)-1)
	if last >= int64(len(l.hashes)) {
		return nil, os.ErrNotExist
	}
	data, err := tlog.ReadTileData(t, l)
	if err == nil && o.mode == "badtiles" {
		data[0] ^= 1
	}
	return data, err
}

// addRecord adds a module version's record to both logs.
func (o *ops) addRecord(path, version string, data []byte) (int64, error) {
	if _, err := tlog.FormatRecord(0, data); err != nil {
		return 0, fmt.Errorf("record for %s@%s: %v", path, version, err)
	}
	key := module.Version{Path: path, Version: version}.String()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fork.add(key, data)
	return o.main.add(key, data), nil
}

func (o *ops) fill(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.main.records); i < n; i++ {
		path := fmt.Sprintf("example.com/fill/m%d", i)
		sum := sha256.Sum256([]byte(path))
		h := base64.StdEncoding.EncodeToString(sum[:])
		data := []byte(fmt.Sprintf("%s v1.0.0 h1:%s\n%s v1.0.0/go.mod h1:%s\n", path, h, path, h))
		key := path + "@v1.0.0"
		o.fork.add(key, data)
		o.main.add(key, data)
	}
}

func (o *ops) control(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch strings.TrimPrefix(r.URL.Path, "/_control/") {
	case "add":
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := o.addRecord(q.Get("path"), q.Get("version"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d\n", id)
	case "fill":
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 0 || n > 1<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		o.fill(n)
		fmt.Fprintln(w, "ok")
	case "mode":
		switch m := q.Get("set"); m {
		case "normal", "fork", "lie", "badtiles":
			o.mu.Lock()
			o.mode = m
			o.mu.Unlock()
			fmt.Fprintln(w, "ok")
		default:
			http.Error(w, "unknown mode", http.StatusBadRequest)
		}
	case "signed":
		n, err := strconv.ParseInt(q.Get("n"), 10, 64)
		o.mu.Lock()
		var msg []byte
		if err == nil {
			msg, err = o.signed(n)
		}
		o.mu.Unlock()
		if err != nil {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		w.Write(msg)
	default:
		http.NotFound(w, r)
	}
}

func main() {
	name := flag.String("name", "sum.modgate.test", "database name")
	records := flag.String("records", "", "JSON file of records to add at start")
	flag.Parse()

	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	o := &ops{main: newLog(), fork: newLog(), mode: "normal", signer: signer}
	// The fork's extra first record: every head of it differs from the main log's.
	o.fork.add("", []byte("example.com/forked v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	if *records != "" {
		data, err := os.ReadFile(*records)
		if err != nil {
			log.Fatal(err)
		}
		var list []struct{ Path, Version, Gosum string }
		if err := json.Unmarshal(data, &list); err != nil {
			log.Fatal(err)
		}
		for _, r := range list {
			if _, err := o.addRecord(r.Path, r.Version, []byte(r.Gosum)); err != nil {
				log.Fatal(err)
			}
		}
	}

	mux := http.NewServeMux()
	srv := sumdb.NewServer(o)
	for _, p := range sumdb.ServerPaths {
		mux.Handle(p, srv)
	}
	mux.HandleFunc("/_control/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && !strings.HasSuffix(r.URL.Path, "/signed") {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		o.control(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n%s\n", ln.Addr(), vkey)
	// Ends when stdin closes, so the process never outlives the test that started it.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(http.Serve(ln, mux))
}
